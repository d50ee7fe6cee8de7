import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { isPostgres } from '../../lib/knex/migrate';
import { captureStatements, queryPlan } from '../../bench/lib/plans';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'lean-indexes-secret-0123456789abcdef0123';
// Since 013-folded-records: the subjects with a grant whose expiry is still to be recorded
// (their `lapse_at`). Pending tokens lead to their subject through the key of their own table.
const LAPSING = 'consent_subjects_lapse_index';

/** Index name → definition, of one table. */
async function indexes(knex: Knex, table: string): Promise<Map<string, string>> {
  const rows: Array<{ name: string; sql: string | null }> = isPostgres(knex)
    ? (await knex.raw('select indexname as name, indexdef as sql from pg_indexes where tablename = ?', [table])).rows
    : await knex('sqlite_master').where({ type: 'index', tbl_name: table }).select('name', 'sql');
  return new Map(rows.map((r) => [r.name, (r.sql ?? '').toLowerCase().replace(/[`"()]/g, '')]));
}

/** The plan of the one statement of `work` that matches `pattern`, as one text. */
async function planOf(knex: Knex, pattern: RegExp, work: () => Promise<unknown>): Promise<string> {
  const statements = (await captureStatements(knex, work)).filter((s) => pattern.test(s.sql));
  expect(statements, `one statement matching ${String(pattern)}`).to.have.length(1);
  return (await queryPlan(knex, statements[0] as (typeof statements)[number])).join('\n');
}

/** Decisions of `subjects` people on both requirements, dated a day ago. */
function* decisions(subjects: number): Generator<Record<string, unknown>> {
  const at = Date.now() - 86_400_000;
  for (let i = 0; i < subjects; i += 1) {
    yield { subjectId: `p${String(i)}`, requirement: 'terms', decision: 'granted', at };
    yield { subjectId: `p${String(i)}`, requirement: 'news', decision: i % 2 ? 'granted' : 'denied', at };
  }
}

describeEachDatabase('lean write indexes (migration 005-lean-indexes)', (open) => {
  let db: TestDatabase;
  let tracker: KnexTracker;
  let consent: Consent;

  beforeEach(async () => {
    db = await open();
    tracker = new KnexTracker(db.knex);
    consent = createConsent({ tracker, secret: SECRET, cache: false, sweep: false, logger: { warn() {}, error() {} } });
    consent.register([
      { id: 'terms', title: 'Terms', description: 'Terms of use.', expiresAfterDays: 30 },
      { id: 'news', title: 'News', description: 'A newsletter.' },
    ]);
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('drops the indexes no read uses and keeps partial ones for tokens and expiries', async () => {
    const events = await indexes(db.knex, 'consent_events');
    expect([...events.keys()]).not.to.include('consent_events_chain_requirement_seq_index');
    expect([...events.keys()]).to.include('consent_events_chain_seq_unique');
    // The records live in the subject rows (013): no table of one row per record, nor its indexes.
    expect(await db.knex.schema.hasTable('consent_states')).to.equal(false);
    // Pending tokens: kept in the records, found through the subject a link names, in no index.
    expect(await db.knex.schema.hasTable('consent_pending')).to.equal(false);
    // Expiries: only the subjects with a grant still to lapse are in the sweep's index.
    expect((await indexes(db.knex, 'consent_subjects')).get(LAPSING)).to.match(/lapse_at where lapse_at is not null$/);
  });

  it('the sweep reads the partial lapse index, a filtered history reads (chain, seq)', async () => {
    await consent.import(decisions(1500));
    await consent.record('u1', { terms: 'granted', news: 'granted' });
    // Statistics, as a production database has them: the planner picks indexes from them.
    await db.knex.raw(isPostgres(db.knex) ? 'vacuum analyze' : 'analyze');
    const lapsed = await planOf(db.knex, /lapse_at/, () => tracker.lapsedGrants({ now: Date.now(), limit: 10 }));
    expect(lapsed).to.include(LAPSING);
    const history = await planOf(db.knex, /consent_events/, () => consent.history('u1', { requirement: 'news' }));
    expect(history).to.include('consent_events_chain_seq_unique');
    expect((await consent.history('u1', { requirement: 'news' })).events.map((e) => e.requirement)).to.deep.equal(['news']);
  });
});
