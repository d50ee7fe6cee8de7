import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { captureStatements, queryPlan } from '../../bench/lib/plans';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';

/*
 * PostgreSQL (migration 014-answered-versions): events indexed by (requirement, version), one
 * entry per pair and its list of rows, instead of an entry per event; indexes whose keys only
 * grow filled whole. The admin search by requirement and the check that a version was answered
 * still read an index, and find what a filter on every event finds.
 */

const SECRET = 'answered-versions-secret-0123456789abcdef';

async function plansOf(knex: Knex, work: () => Promise<unknown>): Promise<string> {
  const statements = (await captureStatements(knex, work)).filter((s) => /^\s*select/i.test(s.sql) && s.sql.includes('consent_events'));
  return (await Promise.all(statements.map((s) => queryPlan(knex, s)))).flat().join('\n');
}

describePg('events by requirement and version (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createPgDatabase>>;
  let knex: Knex;
  let tracker: KnexTracker;
  let consent: Consent;

  before(async () => {
    database = await createPgDatabase();
    knex = knexFactory(pgKnexConfig(database.url));
    tracker = new KnexTracker(knex);
    consent = createConsent({ tracker, secret: SECRET, cache: false, sweep: false, logger: { warn() {}, error() {} } });
    consent.register([
      { id: 'terms', title: 'Terms', description: 'Terms of use.' },
      { id: 'rare', title: 'Rare', description: 'Seldom asked.' },
    ]);
    await consent.ready();
    const at = Date.now() - 86_400_000;
    await consent.import(Array.from({ length: 4000 }, (_, i) => ({ subjectId: `p${String(i)}`, requirement: i % 400 === 0 ? 'rare' : 'terms', decision: 'granted', at: at + i })));
    await knex.raw('vacuum analyze');
  });
  after(async () => {
    await consent.close();
    await knex.destroy();
    await database.drop();
  });

  it('keeps one index entry per (requirement, version), and fills the indexes whose keys only grow', async () => {
    const { rows } = await knex.raw<{ rows: Array<{ name: string; def: string; options: string[] | null }> }>(
      `select c.relname as name, pg_get_indexdef(c.oid) as def, c.reloptions as options from pg_class c
       where c.relkind = 'i' and c.relname like 'consent_events%' or c.relname = 'consent_subjects_pkey'`,
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.has('consent_events_requirement_id_index')).to.equal(false);
    expect(byName.get('consent_events_requirement_version_index')?.def).to.match(/\(requirement, version\)$/);
    for (const name of ['consent_events_pkey', 'consent_events_chain_seq_unique', 'consent_subjects_pkey']) {
      expect(byName.get(name)?.options, name).to.deep.equal(['fillfactor=100']);
    }
    // Deduplicated: far less than the 16 bytes an entry per event would take at the least.
    const { rows: size } = await knex.raw<{ rows: Array<{ bytes: string }> }>("select pg_relation_size('consent_events_requirement_version_index') as bytes");
    expect(Number(size[0]?.bytes) / 4000).to.be.below(16);
  });

  it('finds a requirement\'s events newest and oldest first as a filter on all events does: a rare one through the index, a common one through the ids', async () => {
    const all = await tracker.auditEvents({ order: 'newest', limit: 10_000 });
    for (const requirement of ['terms', 'rare']) {
      for (const order of ['newest', 'oldest'] as const) {
        const expected = all.filter((e) => e.requirement === requirement).map((e) => e.id);
        const page = await tracker.auditEvents({ order, limit: 10_000, requirement });
        expect(page.map((e) => e.id), `${requirement} ${order}`).to.deep.equal(order === 'newest' ? expected : [...expected].reverse());
      }
    }
    expect(await plansOf(knex, () => tracker.auditEvents({ order: 'newest', limit: 50, requirement: 'rare' }))).to.include('consent_events_requirement_version_index');
    expect(await plansOf(knex, () => tracker.auditEvents({ order: 'newest', limit: 50, requirement: 'terms' }))).to.include('consent_events_pkey');
  });

  it('replaces the text of a version nobody answered, and refuses to for one that was answered, reading the index', async () => {
    const restart = async (description: string, id: string): Promise<unknown> => {
      const other = createConsent({ tracker: new KnexTracker(knex), secret: SECRET, cache: false, sweep: false, logger: { warn() {}, error() {} } });
      other.register([{ id, title: id, description }]);
      try {
        return await other.ready().then(() => 'ok', (error: unknown) => error);
      } finally {
        await other.close();
      }
    };
    // Answered by most events: any read stops at the first (the planner may scan the table for it).
    expect(await restart('Terms of use, changed.', 'terms')).to.be.instanceOf(Error).with.property('message').that.match(/terms/);
    expect(await restart('Never asked.', 'unasked')).to.equal('ok');
    // Answered by none: only the index can say so without reading every event.
    let outcome: unknown;
    const plan = await plansOf(knex, async () => { outcome = await restart('Never asked, changed.', 'unasked'); });
    expect(outcome).to.equal('ok');
    expect(plan).to.include('consent_events_requirement_version_index');
  });
});
