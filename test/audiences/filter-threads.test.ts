import { expect } from 'chai';
import knexFactory from 'knex';
import { pseudonymOf } from '../../lib/audit/keys';
import { audienceThreads } from '../../lib/core/audience-checks';
import { audienceWorkers } from '../../lib/core/audience-pool';
import { ConsentError, ConsentIntegrityError } from '../../lib/errors';
import { KnexTracker, type Consent } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
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
async function kept(iterable: AsyncIterable<string | number>): Promise<{ ids: Array<string | number>; error: unknown; threads: number }> {
  const started = audienceWorkers.started;
  const ids: Array<string | number> = [];
  let error: unknown = null;
  try {
    for await (const id of iterable) ids.push(id);
  } catch (caught) {
    error = caught;
  }
  return { ids, error, threads: audienceWorkers.started - started };
}

const saved = { size: audienceWorkers.size, script: audienceWorkers.script, ...audienceThreads };
const restore = (): void => {
  Object.assign(audienceWorkers, { size: saved.size, script: saved.script });
  Object.assign(audienceThreads, { minSubjects: saved.minSubjects, measuredPages: saved.measuredPages, mainBound: saved.mainBound, idleMs: saved.idleMs });
};
/** Threads judge every batch from the first (on), or never (off). */
const threads = (on: boolean): void => {
  audienceWorkers.size = 2;
  if (on) Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });
  else audienceThreads.minSubjects = Infinity;
};

for (const backend of BACKENDS) {
  backend.describe(`consent.filterAllowed() on threads (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let clock = START;

    beforeEach(async () => {
      clock = START;
      db = await backend.open();
      t = await testConsent(db, { now: () => new Date(clock), logger: quiet });
      await fill(t.consent, clock);
    });
    afterEach(async () => {
      restore();
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
        expect(judged.threads).to.equal(2, 'threads judged the batches');
        expect(judged.error).to.equal(null);
        expect(judged.ids, `${requirement} gpc=${String(gpc)}`).to.deep.equal(plain.ids);
        const verdicts = new Map<string | number, boolean>();
        for (const id of new Set(IDS)) verdicts.set(id, await t.consent.isAllowed(id, requirement, { gpc }));
        expect(judged.ids).to.deep.equal(IDS.filter((id) => verdicts.get(id)));
        expect(judged.ids.length).to.be.greaterThan(0).and.lessThan(IDS.length);
      }
    });

    it('refuses a subject whose stored records were changed as an integrity failure, on threads as on the main thread', async () => {
      await t.knex('consent_states').where({ requirement: 'analytics', decision: 'denied' }).update({ decision: 'granted' });
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
  afterEach(restore);

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
    const s = await store((pseudonyms, call, read) => (call % 2 === 0 ? Promise.resolve(null) : read(pseudonyms)));
    try {
      threads(true);
      const { ids, error, threads: started } = await kept(s.consent.filterAllowed(IDS, 'analytics'));
      expect(error).to.equal(null);
      expect(started).to.equal(2);
      expect(ids).to.deep.equal(s.expected);
      // Batches of 1000, then of 2000 once threads judge them: 1000, 2000, 2000, 2000, 500.
      expect(s.counts).to.deep.equal({ rows: 5, snapshots: 4 }, 'the second and fourth batch read through snapshots(), a thousand at a time');
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
