import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { isPostgres } from '../../lib/knex/migrate';
import { captureStatements, queryPlan } from '../../bench/lib/plans';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'lean-indexes-secret-0123456789abcdef0123';
const PENDING = 'consent_states_pending_token_index';
// Since 010-lean-rows: only the grants whose expiry is still to be recorded.
const LAPSING = 'consent_states_lapse_index';

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
    const states = await indexes(db.knex, 'consent_states');
    expect([...events.keys()]).not.to.include('consent_events_chain_requirement_seq_index');
    expect([...events.keys()]).to.include('consent_events_chain_seq_unique');
    expect([...states.keys()]).not.to.include('consent_states_requirement_decision_index');
    expect(states.get(PENDING)).to.match(/where pending_token is not null$/);
    expect(states.get(LAPSING)).to.match(/expiry_recorded = false and expires_at is not null$/);
  });

  it('the token lookup and the sweep read the partial indexes, a filtered history reads (chain, seq)', async () => {
    await consent.import(decisions(1500));
    await consent.record('u1', { terms: 'granted', news: 'granted' });
    // Statistics, as a production database has them: the planner picks indexes from them.
    await db.knex.raw(isPostgres(db.knex) ? 'vacuum analyze' : 'analyze');
    const token = await planOf(db.knex, /pending_token/, () => tracker.findPending('f'.repeat(64)));
    expect(token).to.include(PENDING);
    const lapsed = await planOf(db.knex, /expires_at/, () => tracker.lapsedGrants({ now: Date.now(), limit: 10 }));
    expect(lapsed).to.include(LAPSING);
    const history = await planOf(db.knex, /consent_events/, () => consent.history('u1', { requirement: 'news' }));
    expect(history).to.include('consent_events_chain_seq_unique');
    expect((await consent.history('u1', { requirement: 'news' })).events.map((e) => e.requirement)).to.deep.equal(['news']);
  });
});
