import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { NO_PERSONAL_FIELDS, personalDigest } from '../../lib/audit/chain';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import type { BatchPlanner } from '../../lib/tracker/records';
import { isPostgres } from '../../lib/knex/migrate';
import { planImport } from '../../lib/state/import-plan';
import { captureStatements } from '../../bench/lib/plans';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'prepared-batch-secret-0123456789abcdef012';
const AT = Date.parse('2025-03-01T00:00:00.000Z');
const quiet = { warn() {}, error() {} };
// The upsert of chain heads that a batch planned inside its transaction ends with.
// On PostgreSQL the log entry rides on it as a WITH clause.
const HEAD_UPSERT = /^(with "log_entry" as \(insert into "consent_log" [^)]*\) values \([^)]*\)\) )?insert into "consent_subjects".*on conflict \("chain"\) do update/s;

function newConsent(tracker: KnexTracker): Consent {
  const consent = createConsent({ tracker, secret: SECRET, cache: false, sweep: false, logger: quiet });
  consent.register([
    { id: 'a', title: 'A', description: 'A' },
    { id: 'b', title: 'B', description: 'B' },
  ]);
  return consent;
}

/** The pseudonyms (sorted) of `subjects`, and a planner importing a grant of `a` and a denial of `b` for each. */
function importBatch(consent: Consent, subjects: string[]): { pseudonyms: string[]; plan: BatchPlanner } {
  const { engine } = consent;
  const key = engine.derivedKeys.chain;
  const digest = personalDigest(key, NO_PERSONAL_FIELDS);
  const decisions = [
    { requirement: engine.registry.require('a'), version: 1, decision: 'granted' as const, at: AT, source: 'import' as const },
    { requirement: engine.registry.require('b'), version: 1, decision: 'denied' as const, at: AT, source: 'import' as const },
  ];
  return {
    pseudonyms: subjects.map((s) => engine.pseudonym(s)).sort(),
    plan: (_pseudonym, snapshot) => planImport(snapshot, decisions, key, digest),
  };
}

async function timeline(consent: Consent, subject: string): Promise<string[]> {
  const { events } = await consent.history(subject, { limit: 100 });
  return events.reverse().map((e) => `${e.requirement}:${e.action}:${e.source}`);
}

async function eventIds(knex: Knex): Promise<number[]> {
  return (await knex('consent_events').orderBy('id').pluck('id')).map(Number);
}

describeEachDatabase('batches prepared ahead of their transaction', (open) => {
  let db: TestDatabase;
  let tracker: KnexTracker;
  let consent: Consent;
  const subjects = ['s1', 's2', 's3', 's4'];

  beforeEach(async () => {
    db = await open();
    tracker = new KnexTracker(db.knex);
    consent = newConsent(tracker);
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  /** Prepares the batch of `subjects`, runs `between`, then writes it; the statements of the write. */
  async function prepareThenWrite(between: () => Promise<unknown> = async () => undefined): Promise<string[]> {
    const { pseudonyms, plan } = importBatch(consent, subjects);
    const prepared = await tracker.prepareMany(pseudonyms, plan);
    expect(prepared?.pseudonyms).to.deep.equal(pseudonyms);
    await between();
    const sent = await captureStatements(db.knex, () => tracker.writeMany(pseudonyms, plan, prepared));
    return sent.map((s) => s.sql);
  }

  it('writes new subjects as prepared: their reserved ids, the heads with the subject rows', async () => {
    await consent.record('before', { a: 'granted' });
    const sent = await prepareThenWrite();
    expect(sent.filter((sql) => HEAD_UPSERT.test(sql))).to.deep.equal([]);
    // One id before the batch, then the eight reserved ones in pseudonym order.
    expect(await eventIds(db.knex)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const s of subjects) expect(await timeline(consent, s)).to.deep.equal(['a:grant:import', 'b:deny:import']);
    expect((await consent.states('s3')).b?.state).to.equal('denied');
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 9, problems: [] });
  });

  it('plans everything again when a subject was created meanwhile, and appends to its chain', async () => {
    const sent = await prepareThenWrite(() => consent.record('s2', { a: 'denied' }));
    expect(sent.filter((sql) => HEAD_UPSERT.test(sql))).to.have.length(1);
    expect(await timeline(consent, 's2')).to.deep.equal(['a:deny:app', 'a:grant:import', 'b:deny:import']);
    expect(await timeline(consent, 's3')).to.deep.equal(['a:grant:import', 'b:deny:import']);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 9, problems: [] });
    // The chains created by the transaction were planned from their empty start, then given their heads.
    expect(await consent.verify({ subjectId: 's1' })).to.deep.include({ ok: true, checked: 2 });
  });

  it('logs the prepared events in one entry after a chain opened meanwhile', async () => {
    const sent = await prepareThenWrite(() => consent.record('newcomer', { b: 'granted' }));
    expect(sent.filter((sql) => HEAD_UPSERT.test(sql))).to.deep.equal([]);
    const entries = await consent.engine.tracker.logEntries({ limit: 10 });
    // The newcomer's write came first; the batch's eight events follow in one entry.
    expect(entries.map((e) => e.leaves.length / 40)).to.deep.equal([1, 8]);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 9, problems: [] });
  });

  it("gives this process's other writes ids above the reserved ones", async () => {
    const sent = await prepareThenWrite(() => consent.record('other', { a: 'granted' }));
    expect(sent.filter((sql) => HEAD_UPSERT.test(sql))).to.deep.equal([]);
    // The batch's eight reserved ids come first; the write made meanwhile took the next one.
    const [other] = (await consent.history('other')).events;
    expect(consent.engine.eventIds.decode(other?.id as string)).to.equal('9');
    expect(await eventIds(db.knex)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 9, problems: [] });
  });

  it('never writes an id another process took meanwhile', async () => {
    // A second process on the same database: it knows nothing of this one's reservations.
    const knex = knexFactory(db.knex.client.config as Knex.Config);
    const elsewhere = newConsent(new KnexTracker(knex));
    try {
      await elsewhere.ready();
      const sent = await prepareThenWrite(() => elsewhere.record('elsewhere', { a: 'granted' }));
      const ids = await eventIds(db.knex);
      expect(new Set(ids).size).to.equal(9);
      // SQLite: the other process took id 1, inside the reservation, so the batch was planned
      // again. PostgreSQL's sequence never hands a reserved id out twice.
      expect(sent.filter((sql) => HEAD_UPSERT.test(sql))).to.have.length(isPostgres(db.knex) ? 0 : 1);
      expect(await consent.verify()).to.deep.include({ ok: true, checked: 9, problems: [] });
    } finally {
      await elsewhere.close();
      await knex.destroy();
    }
  });

  it('writes two batches prepared at once as prepared, each with ids of its own', async () => {
    // A write first, so that every reservation is made at once (the first reads the stored mark).
    await consent.record('before', { a: 'granted' });
    // Large enough that each batch reserves its ids over several slices.
    const first = importBatch(consent, Array.from({ length: 300 }, (_, i) => `p${String(i)}`));
    const second = importBatch(consent, Array.from({ length: 300 }, (_, i) => `q${String(i)}`));
    const [one, two] = await Promise.all([tracker.prepareMany(first.pseudonyms, first.plan), tracker.prepareMany(second.pseudonyms, second.plan)]);
    const sent = await captureStatements(db.knex, async () => {
      await tracker.writeMany(first.pseudonyms, first.plan, one);
      await tracker.writeMany(second.pseudonyms, second.plan, two);
    });
    expect(sent.map((s) => s.sql).filter((sql) => HEAD_UPSERT.test(sql))).to.deep.equal([]);
    expect(await eventIds(db.knex)).to.deep.equal(Array.from({ length: 1201 }, (_, i) => i + 1));
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 1201, problems: [] });
  });

  it('ignores a prepared batch of other subjects', async () => {
    const other = importBatch(consent, ['x1', 'x2']);
    const prepared = await tracker.prepareMany(other.pseudonyms, other.plan);
    const { pseudonyms, plan } = importBatch(consent, subjects);
    await tracker.writeMany(pseudonyms, plan, prepared);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 8, problems: [] });
    expect((await consent.history('x1')).events).to.deep.equal([]);
  });

  it('gives the event loop a turn while it plans a large batch inside its transaction', async () => {
    const { pseudonyms, plan } = importBatch(consent, Array.from({ length: 2500 }, (_, i) => `t${String(i)}`));
    // Set by a callback queued when the first subject is planned: it runs only once planning lets the loop turn.
    let turned = false;
    const sawTurn: boolean[] = [];
    const watched: BatchPlanner = (pseudonym, snapshot) => {
      if (sawTurn.length === 0) setImmediate(() => { turned = true; });
      sawTurn.push(turned);
      return plan(pseudonym, snapshot);
    };
    await tracker.writeMany(pseudonyms, watched);
    expect(sawTurn).to.have.length(2500);
    expect(sawTurn.indexOf(true)).to.be.within(1, 1000);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 5000, problems: [] });
  });
});
