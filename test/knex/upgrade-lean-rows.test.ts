import { join } from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { confirmToken } from '../../lib/core/confirm';
import { applyGpc } from '../../lib/core/gpc';
import { createConsent, migrate, type Consent } from '../../lib/index';
import { describeEachDatabase } from '../helpers/each-database';
import { olderLibrary } from '../helpers/older-library';

const SECRET = 'l'.repeat(32);
const DAY = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00.000Z');
const quiet = { warn() {}, error() {} };
const requirements = [
  { id: 'analytics', title: 'Analytics', description: 'Pages you open.', expiresAfterDays: 30 },
  { id: 'news', title: 'News', description: 'A monthly letter.', doubleOptIn: true },
  { id: 'ads', title: 'Ads', description: 'Partners.', gpc: true },
];
// The last commit whose schema ends with 009-texts.
const RELEASE_009 = '04fe74c';

interface Library {
  index: { createConsent: typeof createConsent };
  confirm: { confirmToken: typeof confirmToken };
  gpc: { applyGpc: typeof applyGpc };
}

/** The library of the release before this migration, as it wrote stores. */
async function release009(): Promise<Library> {
  const dir = olderLibrary(RELEASE_009);
  const load = <T>(path: string): Promise<T> => import(join(dir, path)) as Promise<T>;
  return {
    index: await load<Library['index']>('lib/index.ts'),
    confirm: await load<Library['confirm']>('lib/core/confirm.ts'),
    gpc: await load<Library['gpc']>('lib/core/gpc.ts'),
  };
}

function open(knex: Knex, clock: { ms: number }, create: typeof createConsent = createConsent): Consent {
  const consent = create({ knex, secret: SECRET, logger: quiet, sweep: false, cache: false, now: () => new Date(clock.ms) });
  consent.register(requirements);
  return consent;
}

const SUBJECTS = ['ada', 'bo', 'cy', 'dee', 'eve', 'fay', 'gus'];

// The tables whose indexes the sweep and the history read: the states table before the upgrade,
// the subject rows (their records and `lapse_at`, migration 013) after it.
const INDEXED = ['consent_events', 'consent_states', 'consent_subjects'];

async function indexNames(knex: Knex, postgres: boolean): Promise<Record<string, string>> {
  const rows: Array<{ name: string; def: string }> = postgres
    ? (await knex.raw('select indexname as name, indexdef as def from pg_indexes where tablename = any(?)', [INDEXED])).rows
    : await knex('sqlite_master').where({ type: 'index' }).whereIn('tbl_name', INDEXED).select('name', { def: 'sql' });
  return Object.fromEntries(rows.map((r) => [r.name, r.def]));
}

describeEachDatabase('upgrading a store written on the 009 schema to lean rows (010)', (openDb) => {
  it('keeps every row: verify() passes after migrate, states and histories read back the same, the sweep and confirmations still find their rows', async function () {
    this.timeout(120_000);
    const db = await openDb();
    const postgres = db.knex.client.config.client === 'pg';
    const clock = { ms: START };
    const lib = await release009();
    const older = open(db.knex, clock, lib.index.createConsent);
    const tokens: string[] = [];
    older.on('confirmation', (c) => void tokens.push(c.token));
    try {
      await older.ready();
      await older.import(SUBJECTS.flatMap((s, i) => [
        { subjectId: s, requirement: 'analytics', decision: i % 2 ? 'denied' : 'granted', at: START - DAY },
        { subjectId: s, requirement: 'ads', decision: 'granted', at: START - DAY },
      ]));
      await older.record('ada', { ads: 'denied' }, { note: 'changed her mind' });
      await older.record('cy', { news: 'granted' });
      await lib.confirm.confirmToken(older.engine, tokens[0]);
      await older.record('dee', { analytics: 'granted' });
      await lib.gpc.applyGpc(older.engine, 'fay', { gpc: true });
      clock.ms = START + 40 * DAY;
      expect((await older.sweep()).recorded).to.be.greaterThan(0);
      await older.record('bo', { news: 'granted' });
      await older.erase('gus');
      await older.record('eve', { analytics: 'denied' });
    } finally {
      await older.close();
    }
    const before = await snapshot(db.knex, clock, lib.index.createConsent);
    expect((await db.knex('consent_migrations').orderBy('id', 'desc').first('name')).name).to.equal('009-texts');
    const oldIndexes = await indexNames(db.knex, postgres);
    expect(oldIndexes).to.have.property('consent_states_decision_expiry_recorded_expires_at_index');
    expect(await db.knex.schema.hasColumn('consent_subjects', 'head_hash')).to.equal(true);

    // An app role apart from the migrating one: its privileges survive the tables' rewrite.
    const role = `consent_app_${String(process.pid)}`;
    if (postgres) {
      await db.knex.raw(`do $$ begin if not exists (select 1 from pg_roles where rolname = '${role}') then create role ${role}; end if; end $$`);
      await db.knex.raw(`grant select, insert on consent_events, consent_states, consent_subjects to ${role}`);
    }

    await migrate(db.knex);

    // The states table is gone (013 folds its records into the subject rows, rebuilt again).
    expect(await db.knex.schema.hasTable('consent_states')).to.equal(false);
    if (postgres) {
      for (const table of ['consent_events', 'consent_subjects']) {
        const { rows } = await db.knex.raw(`select has_table_privilege('${role}', '${table}', 'INSERT') as i, has_table_privilege('${role}', '${table}', 'UPDATE') as u`);
        expect(rows[0], table).to.deep.equal({ i: true, u: false });
      }
      await db.knex.raw(`revoke all on consent_events, consent_subjects from ${role}`);
    }
    const indexes = await indexNames(db.knex, postgres);
    expect(indexes).to.not.have.property('consent_states_decision_expiry_recorded_expires_at_index');
    expect(indexes).to.not.have.property('consent_states_lapse_index');
    // The sweep's index: only the subjects with a grant whose lapse is still to record.
    expect(indexes.consent_subjects_lapse_index).to.match(/lapse_at/).and.to.match(/where \(?"?lapse_at"? is not null\)?$/i);
    expect(indexes.consent_events_action_id_index).to.match(/grant/);
    if (postgres) expect(indexes.consent_events_at_index).to.match(/brin/i);
    for (const column of ['seq', 'head_hash']) expect(await db.knex.schema.hasColumn('consent_subjects', column)).to.equal(false, column);
    const after = open(db.knex, clock);
    try {
      await after.ready();
      const verified = await after.verify();
      expect(verified.problems).to.deep.equal([]);
      expect(verified.ok).to.equal(true);
      await after.close();
      expect(await snapshot(db.knex, clock)).to.deep.equal(before);
    } finally {
      await after.close();
    }
    // Writes after the upgrade: new ids continue the sequence, the pending link still confirms,
    // a grant lapses into the sweep's index.
    const later = open(db.knex, clock);
    try {
      await later.ready();
      const { events } = await later.history('eve');
      const newest = events[0]!.id;
      await later.record('fay', { analytics: 'granted' });
      await confirmToken(later.engine, tokens[1]);
      expect((await later.states('bo')).news?.state).to.equal('granted');
      expect((await later.history('fay')).events[0]!.id).to.not.equal(newest);
      clock.ms += 31 * DAY;
      expect(await later.sweep()).to.deep.equal({ recorded: 1, refused: 0 });
      expect((await later.states('fay')).analytics?.state).to.equal('expired');
      expect(await later.verify()).to.deep.include({ ok: true, problems: [] });
    } finally {
      await later.close();
      await db.release();
    }
  });
});

/** What the library reports of every subject: states and histories. */
async function snapshot(knex: Knex, clock: { ms: number }, create: typeof createConsent = createConsent): Promise<unknown> {
  const consent = open(knex, clock, create);
  try {
    await consent.ready();
    const out: Record<string, unknown> = {};
    for (const s of SUBJECTS) out[s] = { states: await consent.states(s), history: (await consent.history(s)).events };
    return out;
  } finally {
    await consent.close();
  }
}
