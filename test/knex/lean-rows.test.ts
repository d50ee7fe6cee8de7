import { expect } from 'chai';
import type { Knex } from 'knex';
import { captureStatements, queryPlan } from '../../bench/lib/plans';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { isPostgres } from '../../lib/knex/migrate';
import type { Action } from '../../lib/types';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'lean-rows-secret-0123456789abcdef012345678';
const DAY = 86_400_000;
const ACTIONS: Action[] = ['grant', 'deny', 'withdraw', 'request', 'confirm', 'expire', 'erase'];

/** The plans of the statements of `work` that read `table`, as one text. */
async function plansOf(knex: Knex, table: string, work: () => Promise<unknown>): Promise<string> {
  const statements = (await captureStatements(knex, work)).filter((s) => /^\s*select/i.test(s.sql) && s.sql.includes(table));
  const plans = await Promise.all(statements.map((s) => queryPlan(knex, s)));
  return plans.flat().join('\n');
}

describeEachDatabase('lean rows (migration 010-lean-rows): the admin, sweep and time reads keep their indexes', (open) => {
  let db: TestDatabase;
  let tracker: KnexTracker;
  let consent: Consent;
  const clock = { ms: Date.parse('2026-01-01T00:00:00.000Z') };

  beforeEach(async () => {
    db = await open();
    tracker = new KnexTracker(db.knex);
    consent = createConsent({ tracker, secret: SECRET, cache: false, sweep: false, now: () => new Date(clock.ms), logger: { warn() {}, error() {} } });
    consent.register([
      { id: 'terms', title: 'Terms', description: 'Terms of use.', expiresAfterDays: 30 },
      { id: 'news', title: 'News', description: 'A newsletter.' },
    ]);
    await consent.ready();
    const at = clock.ms - DAY;
    await consent.import(Array.from({ length: 3000 }, (_, i) => ({ subjectId: `p${String(i)}`, requirement: i % 2 ? 'news' : 'terms', decision: i % 3 ? 'granted' : 'denied', at: at + i })));
    for (let i = 0; i < 6; i += 1) await consent.record(`p${String(i)}`, { news: 'denied', terms: 'denied' });
    await consent.erase('p7');
    await db.knex.raw(isPostgres(db.knex) ? 'vacuum analyze' : 'analyze');
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('finds every action as a filter on all events would, a rare one through the partial index', async () => {
    const all = await tracker.auditEvents({ order: 'newest', limit: 10_000 });
    for (const action of ACTIONS) {
      const page = await tracker.auditEvents({ order: 'newest', limit: 10_000, action });
      expect(page.map((e) => e.id), action).to.deep.equal(all.filter((e) => e.action === action).map((e) => e.id));
    }
    const rare = await plansOf(db.knex, 'consent_events', () => tracker.auditEvents({ order: 'newest', limit: 50, action: 'withdraw' }));
    expect(rare).to.include('consent_events_action_id_index');
    const common = await plansOf(db.knex, 'consent_events', () => tracker.auditEvents({ order: 'newest', limit: 50, action: 'grant' }));
    expect(common).not.to.include('consent_events_action_id_index');
    expect(common).to.match(/consent_events_pkey|SCAN e\b/);
  });

  it('counts events per action without the index', async () => {
    const all = await tracker.auditEvents({ order: 'newest', limit: 10_000 });
    const counted: Record<string, number> = {};
    for (const e of all) counted[e.action] = (counted[e.action] ?? 0) + 1;
    expect((await tracker.stats(clock.ms)).actions).to.deep.equal(counted);
    expect(counted).to.include({ erase: 1 });
  });

  it('sweeps lapsed grants through the index of grants still to be recorded, and each only once', async () => {
    // The first grants of the import lapse (thirty days after their decision, a millisecond apart).
    clock.ms += 29 * DAY + 40;
    // The subjects with a grant still to record, by their earliest lapse (their `lapse_at`, migration 013).
    const lapsed = await plansOf(db.knex, 'consent_subjects', () => tracker.lapsedGrants({ now: clock.ms, limit: 10 }));
    expect(lapsed).to.include('consent_subjects_lapse_index');
    const due = await tracker.lapsedGrants({ now: clock.ms, limit: 1000 });
    expect(due.length).to.be.within(5, 40);
    const first = await consent.sweep();
    expect(first.recorded).to.equal(due.length);
    expect(await consent.sweep()).to.deep.equal({ recorded: 0, refused: 0 });
    expect(await tracker.lapsedGrants({ now: clock.ms, limit: 10 })).to.deep.equal([]);
  });

  it('reads a time window through the index on at (BRIN on PostgreSQL)', async () => {
    const from = clock.ms - DAY + 100;
    const events = await tracker.auditEvents({ order: 'newest', limit: 1000, from, to: from + 10 });
    expect(events.map((e) => e.at).every((at) => at >= from && at < from + 10)).to.equal(true);
    expect(events).to.have.length(10);
    const [statement] = (await captureStatements(db.knex, () => tracker.dailyCounts(clock.ms - DAY + 100))).filter((q) => /consent_events/.test(q.sql));
    // A table this small is read whole on PostgreSQL, whatever its indexes: the plan without that choice.
    const plan = await db.knex.transaction(async (trx) => {
      if (isPostgres(db.knex)) await trx.raw('set local enable_seqscan = off');
      return (await queryPlan(trx, statement!)).join('\n');
    });
    expect(plan).to.include('consent_events_at_index');
    if (isPostgres(db.knex)) expect(plan).to.include('Bitmap Index Scan');
  });
});
