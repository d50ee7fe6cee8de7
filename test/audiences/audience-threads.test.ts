import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import knexFactory from 'knex';
import { audienceThreads } from '../../lib/core/audience-checks';
import { audienceWorkers } from '../../lib/core/audience-pool';
import { ConsentError, ConsentIntegrityError } from '../../lib/index';
import { KnexTracker, MemoryTracker } from '../../lib/index';
import type { AudienceQuery, AudienceRowsPage } from '../../lib/tracker/audience-capability';
import { AUDIENCE_ROW_COLUMNS } from '../../lib/tracker/audience-rows';
import { encodeRecords } from '../../lib/tracker/record-blob';
import { storedRecords } from '../../lib/tracker/stored-records';
import { testConsent } from '../helpers/consent-setup';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { restoreThreads, threads } from './thread-settings';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const SUBJECTS = 600;
const quiet = { warn() {}, error() {} };

type RowsReader = (query: AudienceQuery, call: number, read: (query: AudienceQuery) => Promise<AudienceRowsPage | null>) => Promise<AudienceRowsPage | null>;

/**
 * A consent instance on an SQLite file holding `SUBJECTS` subjects (every fourth denied), whose
 * pages of rows go through `rows` (given the call's number in the listing, counting from 1).
 */
async function store(rows: RowsReader = (query, _call, read) => read(query)): Promise<Awaited<ReturnType<typeof testConsent>> & { cleanup(): void }> {
  const file = tempSqliteFile();
  const knex = knexFactory(sqliteKnexConfig(file.filename));
  const tracker = new KnexTracker(knex);
  const read = tracker.audienceRows.bind(tracker);
  let call = 0;
  tracker.audienceRows = (query) => {
    if (query.after === undefined) call = 0;
    call += 1;
    return rows(query, call, read);
  };
  const t = await testConsent({ config: sqliteKnexConfig(file.filename), cleanup: async () => undefined }, { tracker, logger: quiet });
  const at = new Date(Date.now() - 1000);
  await t.consent.import(Array.from({ length: SUBJECTS }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: i % 4 === 0 ? 'denied' : 'granted', at })));
  return {
    ...t,
    close: async () => {
      await t.close();
      await knex.destroy();
    },
    cleanup: file.cleanup,
  };
}

const RECORDS_AT = AUDIENCE_ROW_COLUMNS.indexOf('records');

/** The rows of a page's JSON text with every denial in the subjects' records turned into a grant (each subject's `records` rewritten as well-formed bytes). */
function everyDenialGranted(text: string): string {
  const rows = JSON.parse(text) as unknown[][];
  let changed = 0;
  for (const row of rows) {
    const records = storedRecords(row[RECORDS_AT]);
    if (!records.some((r) => r.decision === 'denied')) continue;
    changed += 1;
    row[RECORDS_AT] = encodeRecords(records.map((r) => (r.decision === 'denied' ? { ...r, decision: 'granted' as const } : r)))?.toString('hex') ?? null;
  }
  expect(changed, 'denials on the page').to.be.above(0);
  return JSON.stringify(rows);
}

const EXPECTED = Array.from({ length: SUBJECTS }, (_, i) => i).filter((i) => i % 4 !== 0).map((i) => `s${String(i)}`).sort();

/** What a listing gave before it ended or failed, and how many threads it started. */
async function listed(iterable: AsyncIterable<string>): Promise<{ ids: string[]; error: unknown; threads: number }> {
  const started = audienceWorkers.started;
  const ids: string[] = [];
  let error: unknown = null;
  try {
    for await (const id of iterable) ids.push(id);
  } catch (caught) {
    error = caught;
  }
  return { ids, error, threads: audienceWorkers.started - started };
}

describe('audience(): pages judged on threads only where the main thread sets the pace', () => {
  beforeEach(() => {
    audienceWorkers.size = 2;
    audienceThreads.minSubjects = 100;
    // Pages of an SQLite file come at once (the wait counts well under judging them); the slow
    // ones take 250 ms each, a hundred times longer or more. A bound of 20 tells them apart on a
    // machine whose other work delays the reads several times over; the default is set from
    // the benchmarks.
    audienceThreads.mainBound = 20;
  });
  afterEach(restoreThreads);

  it('starts threads for pages that come at once, and none for pages the database is slow to give, with the same listing', async () => {
    const quick = await store();
    const slow = await store(async (query, _call, read) => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      return read(query);
    });
    try {
      const a = await listed(quick.consent.audience('analytics', { batchSize: 50 }));
      expect(a.ids.sort()).to.deep.equal(EXPECTED);
      expect(a.threads).to.equal(2, 'the main thread set the pace: threads judged the pages');
      const b = await listed(slow.consent.audience('analytics', { batchSize: 50 }));
      expect(b.ids.sort()).to.deep.equal(EXPECTED);
      expect(b.threads).to.equal(0, 'the listing waited for its reads: no thread took a core from the database');
    } finally {
      for (const s of [quick, slow]) {
        await s.close();
        s.cleanup();
      }
    }
  });

  it('starts no thread for a listing smaller than minSubjects', async () => {
    audienceThreads.minSubjects = SUBJECTS;
    const s = await store();
    try {
      const { ids, threads: started } = await listed(s.consent.audience('analytics', { batchSize: 50 }));
      expect(ids.sort()).to.deep.equal(EXPECTED);
      expect(started).to.equal(0);
    } finally {
      await s.close();
      s.cleanup();
    }
  });
});

describe('audience() with pages judged on threads, as without them', () => {
  afterEach(restoreThreads);

  /** The same listing judged on the main thread and on threads: both results. */
  async function both(rows: RowsReader): Promise<Array<Awaited<ReturnType<typeof listed>>>> {
    const s = await store(rows);
    try {
      threads(false);
      const plain = await listed(s.consent.audience('analytics', { batchSize: 50 }));
      threads(true);
      const judged = await listed(s.consent.audience('analytics', { batchSize: 50 }));
      expect(plain.threads).to.equal(0);
      expect(judged.threads).to.equal(2);
      // Chain keys are random: which subjects the first pages hold is the store's, the same both times.
      expect(judged.ids.sort()).to.deep.equal(plain.ids.sort());
      return [plain, judged];
    } finally {
      await s.close();
      s.cleanup();
    }
  }

  it('fails at a failed read only after listing every page read before it', async () => {
    for (const result of await both(async (query, call, read) => {
      if (call === 4) throw new Error('the store went away');
      return read(query);
    })) {
      // Three pages of 50 before the failure, about a fourth of them denied.
      expect(result.ids.length).to.be.within(75, 150);
      expect(result.error).to.be.instanceOf(ConsentError).and.include({ code: 'store_unavailable' });
    }
  });

  it('lists the same when a page comes with its rows out of order', async () => {
    for (const result of await both(async (query, _call, read) => {
      const page = await read(query);
      return page === null ? null : { ...page, rows: JSON.stringify((JSON.parse(page.rows) as unknown[]).reverse()) };
    })) {
      expect(result.error).to.equal(null);
      expect(result.ids.sort()).to.deep.equal(EXPECTED);
    }
  });

  it('reads a page the tracker cannot give as rows through audience(), the same', async () => {
    for (const result of await both(async (query, call, read) => (call % 2 === 0 ? null : read(query)))) {
      expect(result.error).to.equal(null);
      expect(result.ids.sort()).to.deep.equal(EXPECTED);
    }
  });

  it('fails a page whose rows do not decode as a storage failure, after the pages before it', async () => {
    for (const result of await both(async (query, call, read) => {
      const page = await read(query);
      return call === 3 && page !== null ? { ...page, rows: page.rows.slice(0, -2) } : page;
    })) {
      expect(result.ids.length).to.be.within(50, 100);
      expect(result.error).to.be.instanceOf(ConsentError).and.include({ code: 'store_unavailable' });
    }
  });

  it('fails a page that ends at another subject than its read said as a storage failure', async () => {
    for (const result of await both(async (query, call, read) => {
      const page = await read(query);
      return call === 2 && page !== null ? { ...page, last: '00' } : page;
    })) {
      expect(result.ids.length).to.be.within(25, 50);
      expect(result.error).to.be.instanceOf(ConsentError).and.include({ code: 'store_unavailable' });
    }
  });

  it('refuses a page whose rows fail their seals as an integrity failure, listing none of it', async () => {
    for (const result of await both(async (query, call, read) => {
      const page = await read(query);
      // On the second page every denial reads as a grant (in each subject's records, hex in the page).
      return call === 2 && page !== null ? { ...page, rows: everyDenialGranted(page.rows) } : page;
    })) {
      expect(result.ids.length).to.be.within(25, 50);
      expect(result.error).to.be.instanceOf(ConsentIntegrityError);
    }
  });

  it('gives the event loop turns while it judges a large page on the main thread', async () => {
    threads(false);
    const knex = knexFactory(sqliteKnexConfig(':memory:'));
    const tracker = new KnexTracker(knex);
    const read = tracker.audienceRows.bind(tracker);
    // Turns of the event loop counted from the moment the page has been read: its judging.
    let turns = 0;
    let counting = false;
    const spin = (): void => {
      if (!counting) return;
      turns += 1;
      setImmediate(spin);
    };
    tracker.audienceRows = async (query) => {
      const page = await read(query);
      if (query.after === undefined) {
        counting = true;
        setImmediate(spin);
      }
      return page;
    };
    const t = await testConsent({ config: sqliteKnexConfig(':memory:'), cleanup: async () => undefined }, { tracker, logger: quiet });
    try {
      const at = new Date(Date.now() - 1000);
      await t.consent.import(Array.from({ length: 5000 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: 'granted', at })));
      const { ids } = await listed(t.consent.audience('analytics', { batchSize: 5000 }));
      counting = false;
      expect(ids).to.have.length(5000);
      // Judging 5,000 subjects takes tens of milliseconds, with a turn about every millisecond;
      // judged in one stretch, the page left a couple of turns at most.
      expect(turns).to.be.above(6);
    } finally {
      await t.close();
      await knex.destroy();
    }
  });

  it('refuses a link of another type from a tracker without rows as an integrity failure', async () => {
    const tracker = new MemoryTracker();
    const audience = tracker.audience.bind(tracker);
    tracker.audience = async (query) => (await audience(query)).map((e, i) => (i === 5 ? { ...e, snapshot: { ...e.snapshot, pseudonym: Array.from({ length: 64 }, () => 'a') as unknown as string } } : e));
    const t = await testConsent({ config: sqliteKnexConfig(':memory:'), cleanup: async () => undefined }, { tracker, logger: quiet });
    try {
      await t.consent.import(Array.from({ length: 30 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: 'granted', at: new Date(Date.now() - 1000) })));
      expect((await listed(t.consent.audience('analytics', { batchSize: 10 }))).error).to.be.instanceOf(ConsentIntegrityError);
    } finally {
      await t.close();
    }
  });

  it('lets its threads go when the caller stops reading for idleMs, and lists the rest the same on the main thread', async () => {
    const s = await store();
    try {
      threads(true);
      // Long enough that reading two pages on a loaded machine never looks like a pause.
      audienceThreads.idleMs = 2_000;
      const before = { started: audienceWorkers.started, stopped: audienceWorkers.stopped };
      const listing = s.consent.audience('analytics', { batchSize: 50 })[Symbol.asyncIterator]();
      const ids: string[] = [];
      // Two pages, read promptly: the threads stay.
      while (ids.length < 75) ids.push((await listing.next()).value as string);
      expect(audienceWorkers.started - before.started).to.equal(2);
      expect(audienceWorkers.stopped - before.stopped).to.equal(0, 'a listing being read keeps its threads');
      // The caller pauses: past idleMs, both threads are stopped.
      const deadline = Date.now() + 10_000;
      while (audienceWorkers.stopped - before.stopped < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(audienceWorkers.stopped - before.stopped).to.equal(2, 'the idle listing let its threads go');
      for (let next = await listing.next(); next.done !== true; next = await listing.next()) ids.push(next.value);
      expect(ids.sort()).to.deep.equal(EXPECTED);
      expect(audienceWorkers.started - before.started).to.equal(2, 'no thread started again: the rest was judged on the main thread');
    } finally {
      await s.close();
      s.cleanup();
    }
  });

  it('lets the process exit when the caller drops a listing without ending it', function () {
    this.timeout(60_000);
    const lib = (path: string): string => JSON.stringify(pathToFileURL(join(repo, 'lib', path)).href);
    const script = [
      "import { createRequire } from 'node:module';",
      `import { audienceWorkers } from ${lib('core/audience-pool.ts')};`,
      `import { audienceThreads } from ${lib('core/audience-checks.ts')};`,
      `import { createConsent } from ${lib('index.ts')};`,
      `const knex = createRequire(${JSON.stringify(join(repo, 'package.json'))})('knex')({ client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });`,
      'audienceWorkers.size = 1;',
      'Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });',
      "const consent = createConsent({ knex, secret: 'abandon-secret-0123456789abcdef0123456789', logger: { warn() {}, error() {} } });",
      "consent.register([{ id: 'analytics', title: 'a', description: 'a' }]);",
      'await consent.ready();',
      "await consent.import(Array.from({ length: 300 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: 'granted', at: new Date(Date.now() - 1000) })));",
      "const listing = consent.audience('analytics', { batchSize: 50 })[Symbol.asyncIterator]();",
      'await listing.next();',
      "if (audienceWorkers.started !== 1 || audienceWorkers.failed !== 0) throw new Error('no thread ran');",
      'await consent.close();',
      'await knex.destroy();',
      "process.stdout.write('closed');",
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'audience-abandoned-'));
    const file = join(dir, 'abandon.mts');
    writeFileSync(file, script);
    const started = Date.now();
    let out: string;
    try {
      // From the repository: a thread started from the sources is bundled with its tsx.
      out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: repo, timeout: 45_000, encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(out).to.equal('closed');
    expect(Date.now() - started).to.be.below(40_000, 'it exited on its own, without waiting for the threads');
  });
});
