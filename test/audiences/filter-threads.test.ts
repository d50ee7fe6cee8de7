import { expect } from 'chai';
import knexFactory from 'knex';
import { pseudonymOf } from '../../lib/audit/keys';
import { audienceThreads } from '../../lib/core/audience-checks';
import { audienceWorkers } from '../../lib/core/audience-pool';
import { ConsentError, ConsentIntegrityError } from '../../lib/errors';
import { KnexTracker, type Consent } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { allStoredRecords, changeRecord, storedRecordsOf, storeRecords } from '../helpers/records';
import { restoreThreads, threads } from './thread-settings';
import { DAY, START } from './fixture';

const RECORDED = 3000;
const quiet = { warn() {}, error() {} };

/** The host's ids: numbers and strings, recorded or not, with repeats. */
const IDS: Array<string | number> = Array.from({ length: 7500 }, (_, i) => {
  const n = (i * 7919) % (RECORDED + 500);
  return n % 2 === 0 ? n : `u${String(n)}`;
});

/** Granted, denied and expired decisions (analytics lasts a day), a few grants with the GPC signal, and erased subjects. */
async function fill(consent: Consent, clock: number): Promise<void> {
  const decisions = [];
  for (let n = 0; n < RECORDED; n += 1) {
    const subjectId = n % 2 === 0 ? n : `u${String(n)}`;
    const kind = n % 5;
    decisions.push({ subjectId, requirement: 'analytics', decision: kind === 1 ? 'denied' : 'granted', at: new Date(clock - (kind === 2 ? 2 * DAY : 1000)) });
    decisions.push({ subjectId, requirement: kind === 4 ? 'fraud' : 'ads', decision: kind >= 3 ? 'denied' : 'granted', at: new Date(clock - 1000) });
  }
  await consent.import(decisions, { batchSize: 10_000 });
  for (const subjectId of [10, 'u11', 12]) await consent.engine.record(subjectId, { ads: 'granted' }, {}, { gpc: true });
  for (const subjectId of [20, 'u21', 24]) await consent.erase(subjectId);
}

/** What a filter kept before it ended or failed, and the threads it started. */
async function kept(iterable: AsyncIterable<string | number>): Promise<{ ids: Array<string | number>; error: unknown; threads: number; lookups: number }> {
  const started = audienceWorkers.started;
  const lookups = audienceWorkers.lookups;
  const ids: Array<string | number> = [];
  let error: unknown = null;
  try {
    for await (const id of iterable) ids.push(id);
  } catch (caught) {
    error = caught;
  }
  return { ids, error, threads: audienceWorkers.started - started, lookups: audienceWorkers.lookups - lookups };
}


/** Waits (up to five seconds) until threads have judged `count` batches in all. */
async function judged(count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (audienceWorkers.lookups < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

for (const backend of BACKENDS) {
  backend.describe(`consent.filterAllowed() on threads (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let clock = START;
    let errors: string[] = [];

    beforeEach(async () => {
      clock = START;
      errors = [];
      db = await backend.open();
      t = await testConsent(db, { now: () => new Date(clock), logger: { warn() {}, error: (message: string) => { errors.push(message); } } });
      await fill(t.consent, clock);
    });
    afterEach(async () => {
      restoreThreads();
      await t.close();
      await db.cleanup();
    });

    it('keeps what the main thread keeps, which is what isAllowed() says of each id', async function () {
      this.timeout(60_000);
      for (const [requirement, gpc] of [['analytics', false], ['ads', true], ['ads', false], ['fraud', false]] as const) {
        threads(false);
        const plain = await kept(t.consent.filterAllowed(IDS, requirement, { gpc }));
        threads(true);
        const judged = await kept(t.consent.filterAllowed(IDS, requirement, { gpc }));
        expect(plain.threads).to.equal(0);
        expect(judged.threads).to.equal(2, 'threads started');
        expect(judged.lookups).to.equal(5, 'threads judged every batch: 1000 ids, then 2000 at a time');
        expect(plain.lookups).to.equal(0);
        expect(judged.error).to.equal(null);
        expect(judged.ids, `${requirement} gpc=${String(gpc)}`).to.deep.equal(plain.ids);
        const verdicts = new Map<string | number, boolean>();
        for (const id of new Set(IDS)) verdicts.set(id, await t.consent.isAllowed(id, requirement, { gpc }));
        expect(judged.ids).to.deep.equal(IDS.filter((id) => verdicts.get(id)));
        expect(judged.ids.length).to.be.greaterThan(0).and.lessThan(IDS.length);
      }
    });

    it('judges each batch at the time it is handed out, as the main thread does: grants that lapse meanwhile no longer count', async () => {
      for (const on of [false, true]) {
        threads(on);
        clock = START;
        const ids: Array<string | number> = [];
        // Three days on as soon as the first id is handed out: every analytics grant has lapsed
        // (they last a day), once threads have judged the four batches read ahead before.
        const lookups = audienceWorkers.lookups;
        for await (const id of t.consent.filterAllowed(IDS, 'analytics')) {
          ids.push(id);
          if (on && clock === START) await judged(lookups + 4);
          clock = START + 3 * DAY;
        }
        clock = START;
        const firstBatch = (await kept(t.consent.filterAllowed(IDS.slice(0, 1000), 'analytics'))).ids;
        expect(ids, `threads ${String(on)}`).to.deep.equal(firstBatch);
      }
    });

    it('reads rows for every pseudonym asked: a subject left out is a storage failure, not "no subject"', async () => {
      threads(true);
      const engine = t.consent.engine as unknown as { tracker: { snapshotRows(p: readonly string[]): Promise<string | null> } };
      const read = engine.tracker.snapshotRows.bind(engine.tracker);
      // A subject of the second batch who objected to fraud checks.
      const victim = IDS.slice(1000, 3000).find((id) => {
        const n = typeof id === 'number' ? id : Number(id.slice(1));
        return n < RECORDED && n % 5 === 4;
      });
      expect(await t.consent.isAllowed(victim as string | number, 'fraud')).to.equal(false);
      const dropped = pseudonymOf(t.consent.engine.derivedKeys, String(victim));
      engine.tracker.snapshotRows = async (pseudonyms) => {
        const text = await read(pseudonyms);
        if (text === null || !pseudonyms.includes(dropped)) return text;
        return JSON.stringify((JSON.parse(text) as unknown[][]).filter((row) => String(row[12]).toLowerCase() !== dropped));
      };
      // Legitimate interests: a subject read as absent would be allowed, whatever it objected to.
      const { error, ids } = await kept(t.consent.filterAllowed(IDS, 'fraud'));
      expect(error).to.be.instanceOf(ConsentError).and.to.include({ code: 'store_unavailable' });
      expect(ids).to.deep.equal((await kept(t.consent.filterAllowed(IDS.slice(0, 1000), 'fraud'))).ids, 'the first batch, then the failure');
    });

    it('stops judging the batches read ahead when the caller stops: a changed subject it never reached is not reported', async () => {
      // The subject at 2500 and 6000: in the second and the fourth batch, both read ahead of the first.
      const pseudonym = pseudonymOf(t.consent.engine.derivedKeys, String(IDS[6000]));
      const row = await t.knex<{ chain: Buffer }>('consent_subjects').where('pseudonym', Buffer.from(pseudonym, 'hex')).first('chain');
      // Every record of that subject now names version 7 (its row changed behind the seal).
      const chain = row?.chain as Buffer;
      await storeRecords(t.knex, chain, (await storedRecordsOf(t.knex, chain)).map((r) => ({ ...r, version: 7 })));
      threads(true);
      for await (const _ of t.consent.filterAllowed(IDS, 'analytics')) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(errors).to.deep.equal([]);
      const { error } = await kept(t.consent.filterAllowed(IDS, 'analytics'));
      expect(error).to.be.instanceOf(ConsentIntegrityError);
      expect(errors).to.have.length(1, 'reported once, by the batch handed out');
    });

    it('refuses a subject whose stored records were changed as an integrity failure, on threads as on the main thread', async () => {
      // Every denial of analytics turned into a grant, in each subject's row.
      const denied = (await allStoredRecords(t.knex)).filter((r) => r.requirement === 'analytics' && r.decision === 'denied');
      expect(denied).to.have.length.greaterThan(0);
      await t.knex.transaction(async (trx) => {
        for (const r of denied) await changeRecord(trx, Buffer.from(r.chain, 'hex'), 'analytics', { decision: 'granted' });
      });
      for (const on of [false, true]) {
        threads(on);
        const { ids, error } = await kept(t.consent.filterAllowed(IDS, 'analytics'));
        expect(error, `threads ${String(on)}`).to.be.instanceOf(ConsentIntegrityError);
        expect(ids).to.deep.equal([], 'the first batch already holds a changed subject');
      }
    });
  });
}

describe('consent.filterAllowed() on threads, with a tracker that gives rows badly', () => {
  afterEach(restoreThreads);

  /** A store on an SQLite file through a tracker whose rows go through `rows` (given the call's number). */
  async function store(rows: (pseudonyms: readonly string[], call: number, read: (p: readonly string[]) => Promise<string | null>) => Promise<string | null>) {
    const file = tempSqliteFile();
    const knex = knexFactory(sqliteKnexConfig(file.filename));
    const tracker = new KnexTracker(knex);
    const rowsOf = tracker.snapshotRows.bind(tracker);
    const snapshots = tracker.snapshots.bind(tracker);
    const counts = { rows: 0, snapshots: 0 };
    const delay = { ms: 0 };
    tracker.snapshotRows = (pseudonyms) => {
      counts.rows += 1;
      return rows(pseudonyms, counts.rows, rowsOf);
    };
    // Each batch's snapshots as first read: later reads of it answer at once (or after `delay`).
    const read = new Map<string, ReturnType<typeof snapshots>>();
    tracker.snapshots = async (pseudonyms) => {
      counts.snapshots += 1;
      if (delay.ms > 0) await new Promise((resolve) => setTimeout(resolve, delay.ms));
      const key = pseudonyms.join();
      const answer = read.get(key) ?? snapshots(pseudonyms);
      read.set(key, answer);
      return answer;
    };
    const t = await testConsent({ config: sqliteKnexConfig(file.filename), cleanup: async () => undefined }, { tracker, logger: quiet, now: () => new Date(START) });
    await fill(t.consent, START);
    threads(false);
    const expected = await kept(t.consent.filterAllowed(IDS, 'analytics'));
    counts.rows = 0;
    counts.snapshots = 0;
    return {
      consent: t.consent,
      counts,
      delay,
      expected: expected.ids,
      async close() {
        await t.close();
        await knex.destroy();
        file.cleanup();
      },
    };
  }

  it('reads a batch the tracker cannot give as rows through snapshots(), the same', async () => {
    // Batches of 1000, then of 2000 once threads judge them: 1000, 2000, 2000, 2000, 500. The
    // store gives the batches of 2000 only the usual way (which batch a read serves, not its turn:
    // the batches' pseudonyms come from two threads).
    const s = await store((pseudonyms, _call, read) => (pseudonyms.length === 2000 ? Promise.resolve(null) : read(pseudonyms)));
    try {
      threads(true);
      const { ids, error, threads: started, lookups } = await kept(s.consent.filterAllowed(IDS, 'analytics'));
      expect(error).to.equal(null);
      expect(started).to.equal(2);
      expect(ids).to.deep.equal(s.expected);
      expect(s.counts).to.deep.equal({ rows: 5, snapshots: 6 }, 'the three batches of 2000 read through snapshots(), a thousand at a time');
      expect(lookups).to.equal(2, 'threads judged the other two');
    } finally {
      await s.close();
    }
  });

  it('fails rows that do not decode as a storage failure, after handing out the batches before them', async () => {
    // The third batch's rows (ids 3000 to 4999: batches of 1000, then of 2000 once threads judge
    // them), whichever read asks for it: the batches' pseudonyms come from two threads.
    let third = '';
    const s = await store((pseudonyms, _call, read) => (pseudonyms.includes(third) ? Promise.resolve('[["not", "a row"') : read(pseudonyms)));
    try {
      third = pseudonymOf(s.consent.engine.derivedKeys, String(IDS[3000]));
      threads(true);
      const { ids, error } = await kept(s.consent.filterAllowed(IDS, 'analytics'));
      expect(error).to.be.instanceOf(ConsentError).and.to.include({ code: 'store_unavailable' });
      // The first two batches, in full.
      third = '';
      expect(ids).to.deep.equal((await kept(s.consent.filterAllowed(IDS.slice(0, 3000), 'analytics'))).ids);
      expect(ids.length).to.be.greaterThan(0);
    } finally {
      await s.close();
    }
  });

  it('fails a read that fails as a storage failure', async () => {
    const s = await store((pseudonyms, call, read) => (call === 2 ? Promise.reject(new Error('the store went away')) : read(pseudonyms)));
    try {
      threads(true);
      const { error } = await kept(s.consent.filterAllowed(IDS, 'analytics'));
      expect(error).to.be.instanceOf(ConsentError).and.to.include({ code: 'store_unavailable' });
    } finally {
      await s.close();
    }
  });

  it('starts threads only past minSubjects ids, and only when the reads come faster than the main thread checks them', async () => {
    const s = await store((pseudonyms, _call, read) => read(pseudonyms));
    try {
      audienceWorkers.size = 2;
      // The batches' reads answer at once (they were read before: see `store`), then after 300 ms;
      // checking a batch of snapshots takes some milliseconds. A bound of 2 tells them apart on a
      // loaded machine too; the default is set from the benchmarks.
      Object.assign(audienceThreads, { minSubjects: 100, measuredPages: 2, mainBound: 2 });
      const quick = await kept(s.consent.filterAllowed(IDS, 'analytics'));
      expect(quick.ids).to.deep.equal(s.expected);
      expect(quick.threads).to.equal(2, 'the main thread set the pace');
      // Four batches are read at once: each waits about a quarter of this for its read.
      s.delay.ms = 300;
      const waited = await kept(s.consent.filterAllowed(IDS, 'analytics'));
      expect(waited.ids).to.deep.equal(s.expected);
      expect(waited.threads).to.equal(0, 'the reads set the pace');
      s.delay.ms = 0;
      audienceThreads.minSubjects = IDS.length;
      const short = await kept(s.consent.filterAllowed(IDS, 'analytics'));
      expect(short.ids).to.deep.equal(s.expected);
      expect(short.threads).to.equal(0, 'a list no longer than minSubjects');
    } finally {
      await s.close();
    }
  });

  it('lets its threads go when the caller drops the iteration without ending it', async () => {
    const s = await store((pseudonyms, _call, read) => read(pseudonyms));
    try {
      threads(true);
      audienceThreads.idleMs = 200;
      const { started, stopped } = audienceWorkers;
      const iterator = s.consent.filterAllowed(IDS, 'analytics')[Symbol.asyncIterator]();
      await iterator.next();
      expect(audienceWorkers.started - started).to.equal(2);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(audienceWorkers.stopped - stopped).to.equal(2, 'both threads let go');
    } finally {
      await s.close();
    }
  });

  it('judges on the main thread, the same, when no thread starts', async () => {
    const s = await store((pseudonyms, _call, read) => read(pseudonyms));
    try {
      threads(true);
      audienceWorkers.script = new URL('file:///nonexistent/audience-worker.js');
      const failed = audienceWorkers.failed;
      const { ids, error } = await kept(s.consent.filterAllowed(IDS, 'analytics'));
      expect(error).to.equal(null);
      expect(ids).to.deep.equal(s.expected);
      expect(audienceWorkers.failed).to.be.greaterThan(failed);
    } finally {
      await s.close();
    }
  });
});
