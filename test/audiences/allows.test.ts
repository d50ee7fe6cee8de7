import { expect } from 'chai';
import type { Express, Request } from 'express';
import request from 'supertest';
import { ConsentError, MemoryTracker, type Consent, type RequirementDefinition } from '../../lib/index';
import type { SubjectSnapshot } from '../../lib/tracker';
import { BACKENDS, expressModule, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const DAY = 86_400_000;
const START = Date.parse('2031-03-01T10:00:00.000Z');

// Every basis; versions at 2 so that an imported grant of version 1 is outdated.
const DEFS: RequirementDefinition[] = [
  { id: 'c', title: 'Consent', description: 'c', version: 2, expiresAfterDays: 1, gpc: true },
  { id: 'li', title: 'Legitimate interests', description: 'li', version: 2, expiresAfterDays: 1, lawfulBasis: 'legitimate_interests', gpc: true },
  { id: 'k', title: 'Contract', description: 'k', version: 2, lawfulBasis: 'contract' },
  { id: 'd', title: 'Double opt-in', description: 'd', doubleOptIn: true },
];

/** An app with a guarded route and an `allows()` route per requirement (and for all of them). */
function app(consent: Consent): Express {
  const express = expressModule();
  const host = express();
  host.use('/consent', consent.router());
  for (const id of [...DEFS.map((d) => d.id), 'c,li']) {
    const ids = id.split(',');
    host.get(`/guarded/${id}`, consent.requireConsent(ids), (_req, res) => { res.json({ passed: true }); });
    // A handler that must answer whatever happens: a rejection is shown as its code.
    host.get(`/allows/${id}`, (req, res) => {
      consent.allows(req, ids.length === 1 ? (ids[0] as string) : ids).then(
        (allowed) => { res.json({ allowed }); },
        (error: unknown) => { res.json({ rejected: error instanceof ConsentError ? error.code : String(error) }); },
      );
    });
  }
  return host;
}

for (const backend of BACKENDS) {
  backend.describe(`consent.allows(req) (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db, { now: () => new Date(START) }, DEFS);
      consent = t.consent;
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('equals the guard\'s verdict on the same request, for every state and basis, with and without the GPC signal', async () => {
      const ago = (ms: number) => new Date(START - ms);
      // One subject per state: unset, granted, denied, outdated (version 1), expired, pending.
      await consent.record('granted', { c: 'granted', li: 'granted', k: 'granted', d: 'granted' });
      await consent.record('denied', { c: 'denied', li: 'denied', k: 'denied', d: 'denied' });
      await consent.import(['c', 'li', 'k'].map((requirement) => ({ subjectId: 'outdated', requirement, version: 1, decision: 'granted', at: ago(1000) })));
      await consent.import(['c', 'li'].map((requirement) => ({ subjectId: 'expired', requirement, decision: 'granted', at: ago(2 * DAY) })));
      await consent.record('pending', { d: 'granted' });
      const states = await consent.states('pending');
      expect(states.d?.state).to.equal('pending');
      expect((await consent.states('outdated')).c?.state).to.equal('outdated');
      expect((await consent.states('expired')).li?.state).to.equal('expired');

      const host = app(consent);
      let compared = 0;
      let passed = 0;
      for (const gpc of [false, true]) {
        for (const subject of ['unset', 'granted', 'denied', 'outdated', 'expired', 'pending']) {
          for (const id of [...DEFS.map((d) => d.id), 'c,li']) {
            const headers: Record<string, string> = { 'x-test-user': subject, ...(gpc ? { 'Sec-GPC': '1' } : {}) };
            const guarded = await request(host).get(`/guarded/${id}`).set(headers);
            const allows = await request(host).get(`/allows/${id}`).set(headers).expect(200);
            expect(guarded.status === 200, `${subject} ${id} gpc=${String(gpc)}`).to.equal((allows.body as { allowed: boolean }).allowed);
            // And the other way round: allows() first, on a request that records the signal first.
            const second = await request(host).get(`/allows/${id}`).set(headers).expect(200);
            const again = await request(host).get(`/guarded/${id}`).set(headers);
            expect(again.status === 200).to.equal((second.body as { allowed: boolean }).allowed);
            compared += 1;
            if (guarded.status === 200) passed += 1;
          }
        }
      }
      expect(compared).to.equal(60);
      // Both answers occur: every basis passes for some state and fails for another.
      expect(passed).to.be.within(10, 50);
    });

    it('is false without a subject, rejects on a hook that throws, and checks its ids', async () => {
      const host = app(consent);
      expect((await request(host).get('/allows/k').expect(200)).body).to.deep.equal({ allowed: false });
      await request(host).get('/guarded/k').expect(401);
      expectProblem(await request(host).get('/guarded/k').set('x-test-user', 'throw'), 500, 'internal_error');
      expect((await request(host).get('/allows/k').set('x-test-user', 'throw').expect(200)).body).to.deep.equal({ rejected: 'internal_error' });
      const req = { headers: {}, get: () => undefined } as unknown as Request;
      const unknown = await consent.allows(req, 'nope').catch((e: unknown) => e);
      expect(unknown).to.be.instanceOf(ConsentError).with.property('code', 'unknown_requirement');
      expect(await consent.allows(req, []).catch((e: unknown) => e)).to.be.instanceOf(ConsentError).with.property('code', 'invalid_argument');
    });
  });
}

describe('consent.allows(req) when the store fails', () => {
  class FailingReads extends MemoryTracker {
    failing = false;
    override async current(pseudonym: string): Promise<SubjectSnapshot | null> {
      if (this.failing) throw new Error('the store is down');
      return super.current(pseudonym);
    }
  }

  it('rejects with store_unavailable, never resolves true, where the guard answers 503', async () => {
    const tracker = new FailingReads();
    const memory = { config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined };
    const t = await testConsent(memory, { tracker, cache: false }, DEFS);
    try {
      await t.consent.record('ann', { c: 'granted' });
      const host = app(t.consent);
      expect((await request(host).get('/allows/c').set('x-test-user', 'ann').expect(200)).body).to.deep.equal({ allowed: true });
      tracker.failing = true;
      expectProblem(await request(host).get('/guarded/c').set('x-test-user', 'ann'), 503, 'store_unavailable');
      expect((await request(host).get('/allows/c').set('x-test-user', 'ann').expect(200)).body).to.deep.equal({ rejected: 'store_unavailable' });
    } finally {
      await t.close();
    }
  });
});
