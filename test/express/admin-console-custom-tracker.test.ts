import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createConsent, MemoryTracker, type Consent, type RequirementDefinition } from '../../lib/index';
import type { ConsentTracker } from '../../lib/tracker';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { express4, headerSubject, memoryLogger, TEST_SECRET, type ExpressModule } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 9);
const REQUIREMENTS: RequirementDefinition[] = [
  { id: 'analytics', title: 'Usage analytics', description: 'Which pages you open.' },
  { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.' },
];

const CORE = ['init', 'secret', 'setting', 'syncRequirement', 'requirementVersions', 'current', 'write', 'history', 'erase'] as const;
const PROOF = ['scanEvents', 'heads', 'sealLog', 'logHead', 'logEntries', 'logBlocks', 'logLeaves'] as const;
const ADMIN_METHODS = ['auditEvents', 'stats', 'dailyCounts', 'allRequirementVersions', 'readSetting'] as const;

/**
 * A tracker of the host's own: a plain object (no class the library knows) whose methods keep
 * their data in memory. `admin` decides whether it offers the admin capability.
 */
function customTracker(admin: boolean): ConsentTracker {
  const inner = new MemoryTracker() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names: readonly string[] = [...CORE, ...PROOF, ...(admin ? ADMIN_METHODS : [])];
  return Object.fromEntries(names.map((name) => {
    const method = inner[name];
    if (typeof method !== 'function') throw new Error(`MemoryTracker has no ${name}()`);
    return [name, method.bind(inner)];
  })) as unknown as ConsentTracker;
}

async function seeded(tracker: ConsentTracker): Promise<Consent> {
  let clock = NOW - 2 * DAY;
  const consent = createConsent({
    tracker,
    subject: headerSubject,
    secret: TEST_SECRET,
    logger: memoryLogger(),
    admin: { authorize: headerAdmin },
    now: () => new Date(clock),
  });
  consent.register(REQUIREMENTS);
  await consent.ready();
  await consent.record('alice', { analytics: 'granted', newsletter: 'granted' });
  await consent.record('bob', { analytics: 'granted' });
  clock = NOW;
  await consent.record('alice', { newsletter: 'denied' }, { note: 'asked at the desk' });
  await consent.record('carol', { newsletter: 'denied' });
  return consent;
}

const majors: Array<[string, () => ExpressModule]> = [['Express 5', () => express], ['Express 4', express4]];

for (const [major, lib] of majors) {
  describe(`the admin console over a custom in-memory tracker (${major})`, () => {
    const get = (consent: Consent, path: string) => {
      const app = lib()();
      app.use('/consent', consent.router());
      return request(app).get(`/consent${path}`).set(ADMIN).buffer(true).parse((res, done) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { body += chunk; });
        res.on('end', () => { done(null, body); });
      });
    };

    it('serves the whole console when the tracker has the admin capability', async () => {
      const consent = await seeded(customTracker(true));
      try {
        const overview = (await get(consent, '/admin/console/').expect(200)).body as string;
        expect(overview).to.include('<strong class="subjects">3</strong>');
        const cell = (requirement: string, row: string, state: string) => {
          const table = overview.split(`data-requirement="${requirement}"`)[1]?.split('</table>')[0] ?? '';
          const tr = table.split(`<tr class="${row}">`)[1]?.split('</tr>')[0] ?? '';
          return Number(tr.match(new RegExp(`data-state="${state}">(\\d+)<`))?.[1]);
        };
        expect(cell('analytics', 'total', 'granted')).to.equal(2);
        expect(cell('analytics', 'v-none', 'unset')).to.equal(1);
        expect(cell('newsletter', 'v-1', 'denied')).to.equal(2);
        expect(cell('newsletter', 'total', 'granted')).to.equal(0);
        const day = (offset: number) => new Date(NOW - offset * DAY).toISOString().slice(0, 10);
        expect(overview).to.include(`<path class="point grants" d="M`);
        expect(overview).to.match(new RegExp(`class="point grants"[^>]*data-day="${day(2)}" data-count="3"`));
        expect(overview).to.match(new RegExp(`class="point withdrawals"[^>]*data-day="${day(0)}" data-count="1"`));
        expect(overview).to.include('href="export?format=ndjson"');
        expect(overview).not.to.include('class="notice"');

        const subject = (await get(consent, '/admin/console/subject?id=alice').expect(200)).body as string;
        expect(subject).to.include('Chain verified, no problems. Events checked: 3.');
        expect(subject).to.include('asked at the desk');

        const csv = ((await get(consent, '/admin/console/export?format=csv').expect(200)).body as string).split('\r\n');
        expect(csv[0]).to.equal('id,at,requirement,version,action,state,source,subject,actor,context,locale');
        expect(csv.slice(1, -1).map((l) => l.split(',')[4])).to.deep.equal(['grant', 'grant', 'grant', 'withdraw', 'deny']);
        const ndjson = ((await get(consent, '/admin/console/export?format=ndjson').expect(200)).body as string).trimEnd().split('\n');
        expect(ndjson.map((l) => JSON.parse(l).subject)).to.include(consent.engine.pseudonym('carol'));

        const stats = JSON.parse((await get(consent, '/admin/stats').expect(200)).body as string);
        expect(stats.requirements.newsletter.states).to.include({ denied: 2, unset: 1 });
      } finally {
        await consent.close();
      }
    });

    it('shows requirements and subjects without the admin capability, and says what is missing', async () => {
      const consent = await seeded(customTracker(false));
      try {
        const overview = (await get(consent, '/admin/console/').expect(200)).body as string;
        expect(overview).to.include('<section class="requirement" id="req-newsletter" aria-labelledby="req-title-newsletter">');
        expect(overview).to.include('class="notice"');
        expect(overview).to.include('admin capability');
        expect(overview).not.to.include('href="export?format=csv"');
        expect((await get(consent, '/admin/console/subject?id=alice').expect(200)).body).to.include('Chain verified');
        const refused = await get(consent, '/admin/console/export?format=csv');
        expectProblem(Object.assign(refused, { body: JSON.parse(refused.body as string) }), 500, 'internal_error');
      } finally {
        await consent.close();
      }
    });
  });
}
