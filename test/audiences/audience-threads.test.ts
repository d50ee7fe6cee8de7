import { expect } from 'chai';
import { hmacWorkers } from '../../lib/audit/hmac-pool';
import { audienceThreads } from '../../lib/core/audience-checks';
import { MemoryTracker } from '../../lib/index';
import { testConsent } from '../helpers/consent-setup';

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
    // well under what checking them takes); the slow one's take 25 ms each, some ten times
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
    const slow = await listing(25);
    expect(slow.ids).to.deep.equal(expected);
    expect(slow.threads).to.equal(0, 'the listing waited for its reads: no thread took a core from the database');
  });

  it('starts no thread for a listing smaller than minSubjects', async () => {
    audienceThreads.minSubjects = SUBJECTS;
    expect((await listing(0)).threads).to.equal(0);
  });
});
