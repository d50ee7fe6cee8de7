import { expect } from 'chai';
import type { Knex } from 'knex';
import { confirmToken } from '../../lib/core/confirm';
import { applyGpc } from '../../lib/core/gpc';
import { createConsent, migrate, type Consent } from '../../lib/index';
import { ConsentMigrationSource } from '../../lib/knex/migrations/index';
import { describeEachDatabase } from '../helpers/each-database';

const SECRET = 'l'.repeat(32);
const DAY = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00.000Z');
const quiet = { warn() {}, error() {} };
const requirements = [
  { id: 'analytics', title: 'Analytics', description: 'Pages you open.', expiresAfterDays: 30 },
  { id: 'news', title: 'News', description: 'A monthly letter.', doubleOptIn: true },
  { id: 'ads', title: 'Ads', description: 'Partners.', gpc: true },
];
const LAST_BEFORE = '009-texts';
const THIS = '010-lean-rows';

/** The shipped migrations up to `last`, as the release before this one ran them. */
class MigrationsUpTo extends ConsentMigrationSource {
  constructor(private readonly last: string) {
    super('consent_');
  }

  override async getMigrations(): Promise<string[]> {
    return (await super.getMigrations()).filter((name) => name <= this.last);
  }
}

function open(knex: Knex, clock: { ms: number }): Consent {
  const consent = createConsent({ knex, secret: SECRET, logger: quiet, sweep: false, cache: false, now: () => new Date(clock.ms) });
  consent.register(requirements);
  return consent;
}

const SUBJECTS = ['ada', 'bo', 'cy', 'dee', 'eve', 'fay', 'gus'];

async function indexNames(knex: Knex, postgres: boolean): Promise<Record<string, string>> {
  const rows: Array<{ name: string; def: string }> = postgres
    ? (await knex.raw("select indexname as name, indexdef as def from pg_indexes where tablename in ('consent_events', 'consent_states')")).rows
    : await knex('sqlite_master').where({ type: 'index' }).whereIn('tbl_name', ['consent_events', 'consent_states']).select('name', { def: 'sql' });
  return Object.fromEntries(rows.map((r) => [r.name, r.def]));
}

describeEachDatabase('upgrading a store written on the 009 schema to lean rows (010)', (openDb) => {
  it('keeps every row: verify() passes after migrate, states and histories read back the same, the sweep and confirmations still find their rows', async function () {
    this.timeout(120_000);
    const db = await openDb();
    const postgres = db.knex.client.config.client === 'pg';
    const clock = { ms: START };
    await db.knex.migrate.latest({ migrationSource: new MigrationsUpTo(LAST_BEFORE), tableName: 'consent_migrations' });
    // This release's code writes the same columns as the last one: it fills the 009 schema while
    // the migrations table says 010 ran (so that it does not run it), then forgets it again.
    await db.knex('consent_migrations').insert({ name: THIS, batch: 1, migration_time: new Date() });
    const older = open(db.knex, clock);
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
      await confirmToken(older.engine, tokens[0]);
      await older.record('dee', { analytics: 'granted' });
      await applyGpc(older.engine, 'fay', { gpc: true });
      clock.ms = START + 40 * DAY;
      expect((await older.sweep()).recorded).to.be.greaterThan(0);
      await older.record('bo', { news: 'granted' });
      await older.erase('gus');
      await older.record('eve', { analytics: 'denied' });
    } finally {
      await older.close();
    }
    const before = await snapshot(db.knex, clock);
    await db.knex('consent_migrations').where({ name: THIS }).delete();
    const oldIndexes = await indexNames(db.knex, postgres);
    expect(oldIndexes).to.have.property('consent_states_decision_expiry_recorded_expires_at_index');

    await migrate(db.knex);

    const indexes = await indexNames(db.knex, postgres);
    expect(indexes).to.not.have.property('consent_states_decision_expiry_recorded_expires_at_index');
    expect(indexes.consent_states_lapse_index).to.match(/expiry_recorded/);
    expect(indexes.consent_events_action_id_index).to.match(/grant/);
    if (postgres) expect(indexes.consent_events_at_index).to.match(/brin/i);
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
      expect(await later.sweep()).to.deep.equal({ recorded: 1 });
      expect((await later.states('fay')).analytics?.state).to.equal('expired');
      expect(await later.verify()).to.deep.include({ ok: true, problems: [] });
    } finally {
      await later.close();
      await db.release();
    }
  });
});

/** What the library reports of every subject: states and histories. */
async function snapshot(knex: Knex, clock: { ms: number }): Promise<unknown> {
  const consent = open(knex, clock);
  try {
    await consent.ready();
    const out: Record<string, unknown> = {};
    for (const s of SUBJECTS) out[s] = { states: await consent.states(s), history: (await consent.history(s)).events };
    return out;
  } finally {
    await consent.close();
  }
}
