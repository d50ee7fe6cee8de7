import { expect } from 'chai';
import { ConsentError, MemoryTracker, type Consent } from '../../lib/index';
import type { ConsentTracker } from '../../lib/tracker';
import { testConsent } from '../helpers/consent-setup';
import { AUDIENCE_BACKENDS, audienceFixture, DAY } from './fixture';

const IDS = 100_000;
// Subjects with a history; the other ids were never recorded.
const RECORDED = 2_000;

/** The host's ids: strings and numbers, recorded or not, with repeats, in no particular order. */
function* hostIds(): Generator<string | number> {
  for (let i = 0; i < IDS; i += 1) {
    const n = (i * 7919) % RECORDED + (i % 50 === 0 ? RECORDED : 0) + (i % 3 === 0 ? 0 : i);
    yield i % 4 === 0 ? n : `u${String(n)}`;
  }
}

for (const backend of AUDIENCE_BACKENDS) {
  backend.describe(`consent.filterAllowed() (${backend.name})`, () => {
    const f = audienceFixture(backend);

    it('on 100,000 ids equals isAllowed() on each, for every state and with the GPC signal', async function () {
      this.timeout(120_000);
      // Granted, denied, expired (two days old, analytics lasts one), for numbers and strings alike.
      const decisions = [];
      for (let n = 0; n < RECORDED; n += 1) {
        const subjectId = n % 2 === 0 ? n : `u${String(n)}`;
        const kind = n % 5;
        decisions.push({ subjectId, requirement: 'analytics', decision: kind === 1 ? 'denied' : 'granted', at: new Date(f.clock - (kind === 2 ? 2 * DAY : 1000)) });
        if (kind !== 4) decisions.push({ subjectId, requirement: 'ads', decision: kind === 3 ? 'denied' : 'granted', at: new Date(f.clock - 1000) });
        else decisions.push({ subjectId, requirement: 'fraud', decision: 'denied', at: new Date(f.clock - 1000) });
      }
      await f.consent.import(decisions, { batchSize: 10_000 });
      // A few grants given while sending the signal: the only ones that count with it.
      for (const subjectId of [10, 'u11', 12]) await f.consent.engine.record(subjectId, { ads: 'granted' }, {}, { gpc: true });
      const ids = [...hostIds()];
      for (const [requirement, gpc] of [['analytics', false], ['ads', true], ['fraud', false]] as const) {
        const filtered: Array<string | number> = [];
        for await (const id of f.consent.filterAllowed(ids, requirement, { gpc })) filtered.push(id);
        // isAllowed() on each distinct id (a repeat gets the same answer), a thousand at a time.
        const distinct = [...new Set(ids)];
        const verdicts = new Map<string | number, boolean>();
        for (let i = 0; i < distinct.length; i += 1000) {
          const chunk = distinct.slice(i, i + 1000);
          const answers = await Promise.all(chunk.map((id) => f.consent.isAllowed(id, requirement, { gpc })));
          chunk.forEach((id, j) => verdicts.set(id, answers[j] as boolean));
        }
        const expected = ids.filter((id) => verdicts.get(id));
        expect(filtered, `${requirement} gpc=${String(gpc)}`).to.deep.equal(expected);
        expect(filtered.length).to.be.greaterThan(0).and.lessThan(ids.length);
      }
    });

    it('takes async iterables, keeps the ids as given, and reads in batches', async () => {
      await f.consent.record(7, { analytics: 'granted' });
      await f.consent.record('7', { ads: 'granted' });
      async function* source(): AsyncGenerator<string | number> {
        for (let i = 0; i < 2500; i += 1) yield i % 1000 === 7 ? 7 : `x${String(i)}`;
      }
      const out: Array<string | number> = [];
      for await (const id of f.consent.filterAllowed(source(), 'analytics')) out.push(id);
      expect(out).to.deep.equal([7, 7, 7]);
    });

    it('refuses a source that is not iterable at once, and a bad id naming its index', async () => {
      expect(() => f.consent.filterAllowed(42 as never, 'analytics')).to.throw(ConsentError).with.property('code', 'invalid_argument');
      expect(() => f.consent.filterAllowed([], 'analytics', { gpc: 'yes' } as never)).to.throw(ConsentError).with.property('code', 'invalid_argument');
      const drain = async (ids: unknown[], requirement = 'analytics') => {
        for await (const _ of f.consent.filterAllowed(ids as string[], requirement)) { /* drained */ }
      };
      const bad = await drain(['a', 'b', '']).catch((e: unknown) => e);
      expect(bad).to.be.instanceOf(ConsentError).with.property('code', 'invalid_subject');
      expect((bad as Error).message).to.include('index 2');
      expect(await drain(['a'], 'nope').catch((e: unknown) => e)).to.be.instanceOf(ConsentError).with.property('code', 'unknown_requirement');
    });
  });
}

/**
 * Runs `body` on a consent over a memory tracker without the audience capability whose
 * `current()` is wrapped by `wrap`, once ann has granted and bob denied analytics.
 */
async function withoutSnapshots(wrap: (current: ConsentTracker['current']) => ConsentTracker['current'], body: (consent: Consent) => Promise<void>): Promise<void> {
  // The audience capability is all or nothing: without snapshots() the tracker has none of it.
  const tracker: ConsentTracker = Object.assign(new MemoryTracker(), { snapshots: undefined as never });
  tracker.current = wrap(tracker.current.bind(tracker));
  const db = { config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined };
  const t = await testConsent(db, { tracker });
  try {
    await t.consent.record('ann', { analytics: 'granted' });
    await t.consent.record('bob', { analytics: 'denied' });
    await body(t.consent);
  } finally {
    await t.close();
  }
}

describe('consent.filterAllowed() on a tracker without the audience capability', () => {
  it('reads each subject through current(), with the same answers', async () => {
    let reads = 0;
    const counted = (current: ConsentTracker['current']): ConsentTracker['current'] => (pseudonym) => {
      reads += 1;
      return current(pseudonym);
    };
    await withoutSnapshots(counted, async (consent) => {
      reads = 0;
      const out: string[] = [];
      for await (const id of consent.filterAllowed(['bob', 'ann', 'cy', 'ann'], 'analytics')) out.push(id);
      expect(out).to.deep.equal(['ann', 'ann']);
      expect(reads).to.equal(4);
    });
  });

  it('asks current() for 500 subjects at a time, and one round ahead at most', async () => {
    let inFlight = 0;
    let most = 0;
    let reads = 0;
    const slow = (current: ConsentTracker['current']): ConsentTracker['current'] => async (pseudonym) => {
      inFlight += 1;
      reads += 1;
      most = Math.max(most, inFlight);
      try {
        // A slow store: the reads of a round overlap whatever is asked meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 20));
        return await current(pseudonym);
      } finally {
        inFlight -= 1;
      }
    };
    await withoutSnapshots(slow, async (consent) => {
      reads = 0;
      most = 0;
      const ids = Array.from({ length: 2500 }, (_, i) => (i % 2 === 0 ? 'ann' : 'bob'));
      let kept = 0;
      for await (const id of consent.filterAllowed(ids, 'analytics')) {
        expect(id).to.equal('ann');
        kept += 1;
      }
      expect(kept).to.equal(1250);
      expect(reads).to.equal(2500);
      // A round of 500, and the next batch's first round read ahead meanwhile.
      expect(most).to.be.within(500, 1000);
    });
  });
});

describe('consent.filterAllowed() on a tracker with the audience capability', () => {
  it('has three batches read while it hands one out, and fails at a failed batch only after the ones before it', async () => {
    const tracker = new MemoryTracker();
    const snapshots = tracker.snapshots.bind(tracker);
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    let failAt = Infinity;
    tracker.snapshots = async (pseudonyms) => {
      calls += 1;
      const call = calls;
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        // A store that answers a read once three more were asked (or the list's last one was,
        // or after two seconds): a filter that reads three batches ahead is never kept waiting,
        // and one that reads fewer is seen doing so, however loaded the machine.
        const deadline = Date.now() + 2000;
        while (calls < Math.min(call + 3, 7) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
        if (call === failAt) throw new Error('the store went away');
        return await snapshots(pseudonyms);
      } finally {
        inFlight -= 1;
      }
    };
    const db = { config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined };
    const t = await testConsent(db, { tracker });
    try {
      const ids = Array.from({ length: 7000 }, (_, i) => `u${String(i % 2000)}`);
      await t.consent.import(ids.slice(0, 2000).map((subjectId, i) => ({ subjectId, requirement: 'analytics', decision: i % 3 === 0 ? 'denied' : 'granted', at: new Date(Date.now() - 1000) })));
      const expected = ids.filter((id) => Number(id.slice(1)) % 3 !== 0);
      const kept: string[] = [];
      for await (const id of t.consent.filterAllowed(ids, 'analytics')) kept.push(id);
      expect(kept).to.deep.equal(expected);
      expect(calls).to.equal(7, 'a read per thousand ids');
      expect(most).to.equal(4, 'the batch handed out and three read ahead');
      // The fifth batch's read fails: the four before it are handed out in full first.
      calls = 0;
      failAt = 5;
      kept.length = 0;
      let failure: unknown;
      try {
        for await (const id of t.consent.filterAllowed(ids, 'analytics')) kept.push(id);
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(ConsentError).and.to.include({ code: 'store_unavailable' });
      expect(kept).to.deep.equal(ids.slice(0, 4000).filter((id) => Number(id.slice(1)) % 3 !== 0));
    } finally {
      await t.close();
    }
  });
});

describe('consent.filterAllowed() on a tracker whose snapshots() answers short', () => {
  it('fails as a storage failure rather than read the missing subjects as never asked (legitimate interests would allow them)', async () => {
    const tracker = new MemoryTracker();
    const snapshots = tracker.snapshots.bind(tracker);
    // A tracker written to take a few hundred pseudonyms a call.
    tracker.snapshots = async (pseudonyms) => (await snapshots(pseudonyms)).slice(0, 500);
    const db = { config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined };
    const t = await testConsent(db, { tracker });
    try {
      const ids = Array.from({ length: 1000 }, (_, i) => `u${String(i)}`);
      // Every one of them objected to the fraud checks.
      await t.consent.import(ids.map((subjectId) => ({ subjectId, requirement: 'fraud', decision: 'denied', at: new Date(Date.now() - 1000) })));
      const allowed: string[] = [];
      let failure: unknown;
      try {
        for await (const id of t.consent.filterAllowed(ids, 'fraud')) allowed.push(id);
      } catch (error) {
        failure = error;
      }
      expect(allowed).to.deep.equal([]);
      expect(failure).to.be.instanceOf(ConsentError).and.to.include({ code: 'store_unavailable' });
      // The same ids a few at a time are answered in full, and none is allowed.
      for await (const id of t.consent.filterAllowed(ids.slice(0, 400), 'fraud')) allowed.push(id);
      expect(allowed).to.deep.equal([]);
    } finally {
      await t.close();
    }
  });
});
