import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { hmacWorkers } from '../../lib/audit/hmac-pool';
import { hmacHex } from '../../lib/audit/keys';
import { audienceThreads } from '../../lib/core/audience-checks';
import { ConsentError, ConsentIntegrityError } from '../../lib/errors';
import { MemoryTracker } from '../../lib/index';
import type { AudienceEntry } from '../../lib/tracker/audience-capability';
import { testConsent } from '../helpers/consent-setup';

const repo = fileURLToPath(new URL('../..', import.meta.url));

const MEMORY = { config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined };
const SUBJECTS = 600;

/**
 * A listing of `SUBJECTS` subjects (pages of 50) from a memory tracker whose pages take `delayMs`
 * to come, and how many checking threads it started.
 */
async function listing(delayMs: number): Promise<{ ids: string[]; threads: number }> {
  const tracker = new MemoryTracker();
  const audience = tracker.audience.bind(tracker);
  tracker.audience = async (query) => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return audience(query);
  };
  const t = await testConsent(MEMORY, { tracker });
  try {
    const at = new Date(Date.now() - 1000);
    await t.consent.import(Array.from({ length: SUBJECTS }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: i % 4 === 0 ? 'denied' : 'granted', at })));
    const started = hmacWorkers.started;
    const ids: string[] = [];
    for await (const id of t.consent.audience('analytics', { batchSize: 50 })) ids.push(id);
    return { ids: ids.sort(), threads: hmacWorkers.started - started };
  } finally {
    await t.close();
  }
}

describe('audience(): hashing on a thread only where the main thread sets the pace', () => {
  const saved = { size: hmacWorkers.size, ...audienceThreads };

  beforeEach(() => {
    hmacWorkers.size = 1;
    audienceThreads.minSubjects = 100;
    // The memory tracker's pages come at once (what it does to make them counts as waiting,
    // well under what checking them takes); the slow one's take 60 ms each, some twenty times
    // longer than checking them. A bound of 5 tells them apart on a loaded machine too; the
    // default is set from the benchmarks.
    audienceThreads.mainBound = 5;
  });
  afterEach(() => {
    hmacWorkers.size = saved.size;
    Object.assign(audienceThreads, { minSubjects: saved.minSubjects, measuredPages: saved.measuredPages, mainBound: saved.mainBound });
  });

  it('starts a thread for pages that come at once, and none for pages the database is slow to give, with the same listing', async () => {
    const expected = Array.from({ length: SUBJECTS }, (_, i) => i).filter((i) => i % 4 !== 0).map((i) => `s${String(i)}`).sort();
    const quick = await listing(0);
    expect(quick.ids).to.deep.equal(expected);
    expect(quick.threads).to.equal(1, 'the main thread set the pace: a thread checked the pages');
    const slow = await listing(60);
    expect(slow.ids).to.deep.equal(expected);
    expect(slow.threads).to.equal(0, 'the listing waited for its reads: no thread took a core from the database');
  });

  it('starts no thread for a listing smaller than minSubjects', async () => {
    audienceThreads.minSubjects = SUBJECTS;
    expect((await listing(0)).threads).to.equal(0);
  });
});

/** A memory store of 300 subjects (s7 denied, the rest granted) whose pages `edit` may change. */
async function editedStore(edit: (page: AudienceEntry[], call: number) => AudienceEntry[]): Promise<Awaited<ReturnType<typeof testConsent>>> {
  const tracker = new MemoryTracker();
  const audience = tracker.audience.bind(tracker);
  let call = 0;
  tracker.audience = async (query) => {
    if (query.after === undefined) call = 0;
    call += 1;
    return edit(await audience(query), call);
  };
  const t = await testConsent(MEMORY, { tracker, logger: { warn() {}, error() {} } });
  const at = new Date(Date.now() - 1000);
  await t.consent.import(Array.from({ length: 300 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: i === 7 ? 'denied' : 'granted', at })));
  return t;
}

async function listed(iterable: AsyncIterable<string>): Promise<{ ids: string[]; error: unknown }> {
  const ids: string[] = [];
  try {
    for await (const id of iterable) ids.push(id);
  } catch (error) {
    return { ids, error };
  }
  return { ids, error: null };
}

/** Runs `fn` while every unpooled buffer starts out holding `stale` in each 64-byte slot, as reused memory may. */
async function withStaleMemory<R>(stale: string, fn: () => Promise<R>): Promise<R> {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, never called unbound
  const original = Buffer.allocUnsafeSlow;
  Buffer.allocUnsafeSlow = (size: number) => {
    const buffer = original(size);
    for (let i = 0; i + 64 <= size; i += 64) buffer.write(stale, i, 'latin1');
    return buffer;
  };
  try {
    return await fn();
  } finally {
    Buffer.allocUnsafeSlow = original;
  }
}

describe('audience() with a checking thread, as without one', () => {
  const saved = { size: hmacWorkers.size, ...audienceThreads };
  const threads = (on: boolean, size = 1): void => {
    hmacWorkers.size = size;
    if (on) Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });
    else audienceThreads.minSubjects = Infinity;
  };
  afterEach(() => {
    hmacWorkers.size = saved.size;
    Object.assign(audienceThreads, { minSubjects: saved.minSubjects, measuredPages: saved.measuredPages, mainBound: saved.mainBound });
  });

  it('fails at a failed read only after listing every page read before it', async () => {
    const t = await editedStore((page, call) => {
      if (call === 4) throw new Error('the store went away');
      return page;
    });
    try {
      threads(false);
      const plain = await listed(t.consent.audience('analytics', { batchSize: 50 }));
      threads(true, 2);
      const checked = await listed(t.consent.audience('analytics', { batchSize: 50 }));
      // Three pages of 50 before the failure: 150 subjects, one fewer if the denied one is among them.
      expect(plain.ids.length).to.be.within(149, 150);
      expect(checked.ids).to.deep.equal(plain.ids);
      expect(checked.error).to.be.instanceOf(ConsentError).and.include({ code: 'store_unavailable' });
    } finally {
      await t.close();
    }
  });

  it('never takes a thread\'s verdict on a seal it was not given, whatever the memory held', async () => {
    // s7's records turned to granted, its seal replaced by a number: not something to send a thread.
    const t = await editedStore((page) => page.map((e) => (e.snapshot.records.some((r) => r.decision === 'denied')
      ? { ...e, snapshot: { ...e.snapshot, mac: 42 as unknown as string, records: e.snapshot.records.map((r) => ({ ...r, decision: 'granted' as const })) } }
      : e)));
    try {
      threads(false);
      expect((await listed(t.consent.audience('analytics', { batchSize: 50 }))).error).to.be.instanceOf(ConsentIntegrityError);
      threads(true);
      // The HMAC of an empty text in every slot: what a thread computes for an item left out.
      const stale = hmacHex(t.consent.engine.derivedKeys.chain, '').slice(0, 32).padEnd(64, '0');
      const { ids, error } = await withStaleMemory(stale, () => listed(t.consent.audience('analytics', { batchSize: 50 })));
      expect(ids).to.not.include('s7');
      expect(error).to.be.instanceOf(ConsentIntegrityError);
    } finally {
      await t.close();
    }
  });

  it('never opens a stored id from a verdict on an id it was not given', async () => {
    const t = await editedStore((page) => page.map((e, i) => (i === 3 ? { ...e, sealedSubject: 'zz'.repeat(4) } : e)));
    try {
      threads(false);
      const plain = await listed(t.consent.audience('analytics', { batchSize: 50 }));
      threads(true);
      const stale = hmacHex(t.consent.engine.derivedKeys.pseudonym, '');
      const checked = await withStaleMemory(stale, () => listed(t.consent.audience('analytics', { batchSize: 50 })));
      expect(checked.ids.sort()).to.deep.equal(plain.ids.sort());
      expect(new Set(checked.ids).size).to.equal(checked.ids.length, 'no id listed twice');
    } finally {
      await t.close();
    }
  });

  it('refuses a link of another type as an integrity failure, thread or not', async () => {
    const t = await editedStore((page) => page.map((e, i) => (i === 5 ? { ...e, snapshot: { ...e.snapshot, pseudonym: Array.from({ length: 64 }, () => 'a') as unknown as string } } : e)));
    try {
      threads(false);
      expect((await listed(t.consent.audience('analytics', { batchSize: 50 }))).error).to.be.instanceOf(ConsentIntegrityError);
      threads(true);
      expect((await listed(t.consent.audience('analytics', { batchSize: 50 }))).error).to.be.instanceOf(ConsentIntegrityError);
    } finally {
      await t.close();
    }
  });

  it('lets the process exit when the caller drops a listing without ending it', function () {
    this.timeout(60_000);
    const lib = (path: string): string => JSON.stringify(pathToFileURL(join(repo, 'lib', path)).href);
    const script = [
      `import { hmacWorkers } from ${lib('audit/hmac-pool.ts')};`,
      `import { audienceThreads } from ${lib('core/audience-checks.ts')};`,
      `import { createConsent, MemoryTracker } from ${lib('index.ts')};`,
      'hmacWorkers.size = 1;',
      'Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });',
      "const consent = createConsent({ tracker: new MemoryTracker(), secret: 'abandon-secret-0123456789abcdef0123456789', logger: { warn() {}, error() {} } });",
      "consent.register([{ id: 'analytics', title: 'a', description: 'a' }]);",
      'await consent.ready();',
      "await consent.import(Array.from({ length: 300 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: 'granted', at: new Date(Date.now() - 1000) })));",
      "const listing = consent.audience('analytics', { batchSize: 50 })[Symbol.asyncIterator]();",
      'await listing.next();',
      "if (hmacWorkers.started !== 1 || hmacWorkers.failed !== 0) throw new Error('no thread ran');",
      'await consent.close();',
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
