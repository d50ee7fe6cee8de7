import { expect } from 'chai';
import { eventHash, GENESIS } from '../../lib/audit/chain';
import { ConsentError, MemoryTracker, type Consent } from '../../lib/index';
import type { StoredEvent } from '../../lib/tracker';
import type { BatchPlanner, PreparedBatch } from '../../lib/tracker/records';
import { BACKENDS, REQUIREMENTS, testConsent, type TestDatabase } from '../helpers/consent-setup';

const DAY = 86_400_000;
const NOW = Date.parse('2031-03-01T10:00:00.000Z');
const at = (days: number) => new Date(NOW - days * DAY).toISOString();

const memoryBackend = {
  name: 'memory',
  describe: (title: string, fn: () => void) => describe(title, fn),
  open: async (): Promise<TestDatabase> => ({ config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined }),
  tracker: true,
};

async function storedEvents(consent: Consent, subject: string): Promise<StoredEvent[]> {
  const { engine } = consent;
  const events = await engine.tracker.history(engine.pseudonym(subject), { limit: 1000 });
  return events.reverse();
}

/** Recomputes the subject's chain from its stored events: every link, id and seq number. */
async function expectChained(consent: Consent, subject: string): Promise<StoredEvent[]> {
  const events = await storedEvents(consent, subject);
  const key = consent.engine.derivedKeys.chain;
  let previous = GENESIS;
  let previousId: string | null = null;
  events.forEach((e, i) => {
    expect(e.seq).to.equal(i + 1);
    // The Knex tracker does not store the previous hash: verification takes it from the predecessor.
    expect(e.prevHash === '' || e.prevHash === previous, 'prevHash').to.equal(true);
    expect(e).to.include({ prevId: previousId });
    const { note: _n, data: _d, ip: _ip, userAgent: _ua, hash, prevHash: _p, ...fields } = e;
    expect(eventHash(key, previous, fields)).to.equal(hash);
    previous = hash;
    previousId = e.id;
  });
  return events;
}

for (const backend of [...BACKENDS, memoryBackend]) {
  backend.describe(`consent.import() (${backend.name})`, () => {
    let db: TestDatabase;
    let consent: Consent;
    let close: () => Promise<void>;

    beforeEach(async () => {
      db = await backend.open();
      const tracker = 'tracker' in backend ? { tracker: new MemoryTracker() } : {};
      ({ consent, close } = await testConsent(db, { now: () => new Date(NOW), ...tracker }));
    });
    afterEach(async () => {
      await close();
      await db.cleanup();
    });

    it('imports decisions in batches, chained, with their own times, the latest deciding the state', async () => {
      const items = [
        { subjectId: 'ann', requirement: 'analytics', decision: 'granted', at: at(10) },
        { subjectId: 'bob', requirement: 'analytics', decision: 'granted', at: Date.parse(at(9)), source: 'admin' },
        { subjectId: 'ann', requirement: 'newsletter', decision: 'granted', at: new Date(at(8)) },
        { subjectId: 'ann', requirement: 'analytics', decision: 'denied', at: at(0.5) },
        { subjectId: 42, requirement: 'ads', version: 1, decision: 'denied', at: at(3) },
      ];
      const result = await consent.import(items, { batchSize: 2 });
      expect(result).to.deep.equal({ imported: 5 });

      const ann = await consent.states('ann');
      expect(ann.analytics!).to.include({ state: 'denied', decidedAt: at(0.5) });
      // An imported double opt-in grant is a grant: the other system holds the confirmation.
      expect(ann.newsletter!).to.include({ state: 'granted', decidedAt: at(8) });
      // analytics expires a day after the grant: bob's grant of nine days ago has expired.
      expect((await consent.states('bob')).analytics!).to.include({ state: 'expired', decidedAt: at(9) });
      expect((await consent.states(42)).ads?.state).to.equal('denied');

      const events = await expectChained(consent, 'ann');
      expect(events.map((e) => [e.requirement, e.action, e.state, e.source, e.at])).to.deep.equal([
        ['analytics', 'grant', 'granted', 'import', Date.parse(at(10))],
        ['newsletter', 'grant', 'granted', 'import', Date.parse(at(8))],
        ['analytics', 'withdraw', 'denied', 'import', Date.parse(at(0.5))],
      ]);
      expect((await storedEvents(consent, 'bob'))[0]?.source).to.equal('admin');
    });

    it('appends after existing events and continues their chain', async () => {
      await consent.record('ann', { analytics: 'granted', ads: 'granted' });
      await consent.import([{ subjectId: 'ann', requirement: 'analytics', decision: 'denied', at: at(30) }]);
      const events = await expectChained(consent, 'ann');
      expect(events).to.have.length(3);
      expect(events[2]).to.include({ requirement: 'analytics', action: 'withdraw', at: Date.parse(at(30)), seq: 3 });
      expect((await consent.states('ann')).analytics?.state).to.equal('denied');
      const { events: page } = await consent.history('ann');
      expect(page[0]).to.include({ requirement: 'analytics', action: 'withdraw', source: 'import', at: at(30) });
      // A later write continues from the head the import stored.
      await consent.record('ann', { analytics: 'granted' });
      expect((await expectChained(consent, 'ann')).map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);
    });

    it('produces chains, heads and log entries that verify() accepts', async () => {
      await consent.record('ann', { analytics: 'granted', ads: 'denied' });
      const items = ['ann', 'bob', 'cy', 'dee', 'eve'].flatMap((subjectId, i) => [
        { subjectId, requirement: 'analytics', decision: 'granted', at: at(5 - i) },
        { subjectId, requirement: 'ads', decision: i % 2 === 0 ? 'denied' : 'granted', at: at(4 - i / 2) },
      ]);
      expect(await consent.import(items, { batchSize: 3 })).to.deep.equal({ imported: 10 });
      const verified = await consent.verify();
      expect(verified.ok, JSON.stringify(verified)).to.equal(true);
      expect(verified.checked).to.equal(12);
      expect((await expectChained(consent, 'ann')).map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);
      await expectChained(consent, 'eve');
      // A write after the import continues the imported chain, and the store still verifies.
      await consent.record('bob', { ads: 'denied' });
      expect((await consent.verify()).ok).to.equal(true);
      expect((await consent.verify({ subjectId: 'bob' })).ok).to.equal(true);
    });

    it('refuses the state cache a stale entry after an import', async () => {
      expect((await consent.states('cy')).analytics?.state).to.equal('unset');
      await consent.import([{ subjectId: 'cy', requirement: 'analytics', decision: 'granted', at: at(0.1) }]);
      expect(await consent.isAllowed('cy', 'analytics')).to.equal(true);
    });

    it('validates every item like record() and writes nothing of a bad batch', async () => {
      const bad = [
        { subjectId: '', requirement: 'analytics', decision: 'granted', at: at(1) },
        { subjectId: 'ann', requirement: 'analytics', decision: 'maybe', at: at(1) },
        { subjectId: 'ann', requirement: 'analytics', decision: 'granted', at: new Date(NOW + DAY) },
        { subjectId: 'ann', requirement: 'analytics', decision: 'granted', at: 'yesterday' },
        { subjectId: 'ann', requirement: 'analytics', decision: 'granted', at: at(1), source: 'fax' },
        { subjectId: 'ann', requirement: 'analytics', decision: 'granted', at: at(1), extra: 1 },
        { subjectId: 'ann', requirement: 'analytics', decision: 'granted', at: at(1), version: 0 },
        'not an object',
      ];
      const error = await consent.import(bad).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConsentError);
      const { code, extensions } = error as ConsentError;
      expect(code).to.equal('invalid_argument');
      expect((extensions.errors as Array<{ pointer: string }>).map((p) => p.pointer)).to.deep.equal([
        '/0/subjectId', '/1/decision', '/2/at', '/3/at', '/4/source', '/5/extra', '/6/version', '/7',
      ]);
      expect(extensions.imported).to.equal(0);
      expect(await storedEvents(consent, 'ann')).to.deep.equal([]);
    });

    it('rejects unknown requirements and future versions, keeping earlier batches', async () => {
      const good = { subjectId: 'ann', requirement: 'analytics', decision: 'granted', at: at(1) };
      const unknown = await consent.import([good, { ...good, requirement: 'nope' }], { batchSize: 1 }).catch((e: unknown) => e as ConsentError);
      expect(unknown).to.include({ code: 'unknown_requirement', status: 422 });
      expect((unknown as ConsentError).extensions).to.deep.include({
        ids: ['nope'], imported: 1, errors: [{ pointer: '/1/requirement', detail: 'no requirement is registered as "nope"' }],
      });
      const future = await consent.import([{ ...good, version: 2 }]).catch((e: unknown) => e as ConsentError);
      expect(future).to.include({ code: 'invalid_argument' });
      expect(await storedEvents(consent, 'ann')).to.have.length(1);
      const notIterable = await consent.import(42 as unknown as []).catch((e: unknown) => e as ConsentError);
      expect(notIterable).to.include({ code: 'invalid_argument' });
      const badSize = await consent.import([], { batchSize: 0 }).catch((e: unknown) => e as ConsentError);
      expect(badSize).to.include({ code: 'invalid_argument' });
    });

    it('imports an older version as outdated, and reads an async iterable', async () => {
      const { consent: v2, close: closeV2 } = await testConsent(db, { now: () => new Date(NOW), ...('tracker' in backend ? { tracker: consent.engine.tracker } : {}) },
        REQUIREMENTS.map((r) => (r.id === 'ads' ? { ...r, version: 2 } : r)));
      try {
        async function* source() {
          yield { subjectId: 'dee', requirement: 'ads', version: 1, decision: 'granted', at: at(2) };
          yield { subjectId: 'dee', requirement: 'analytics', decision: 'granted', at: at(0.2) };
        }
        expect(await v2.import(source())).to.deep.equal({ imported: 2 });
        const states = await v2.states('dee');
        expect(states.ads!).to.include({ state: 'outdated', version: 1 });
        expect(states.analytics?.state).to.equal('granted');
      } finally {
        await closeV2();
      }
    });
  });
}

/** A memory tracker whose `fail`-th batch write rejects, after the test sees it start. */
class FailingBatchTracker extends MemoryTracker {
  batches = 0;
  constructor(private readonly fail: number) {
    super();
  }

  override async writeMany(...args: Parameters<MemoryTracker['writeMany']>): Promise<void> {
    this.batches += 1;
    // Later than the next batch's validation: the import reads ahead while a batch is written.
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.batches === this.fail) throw new Error('disk full');
    return super.writeMany(...args);
  }
}

/** A memory tracker that claims to prepare batches ahead, and fails to. */
class UnpreparedTracker extends MemoryTracker {
  prepared: Array<PreparedBatch | null | undefined> = [];

  async prepareMany(): Promise<PreparedBatch | null> {
    throw new Error('connection lost');
  }

  override async writeMany(pseudonyms: string[], plan: BatchPlanner, prepared?: PreparedBatch | null): Promise<void> {
    this.prepared.push(prepared);
    return super.writeMany(pseudonyms, plan);
  }
}

describe('consent.import() while a batch is being written', () => {
  const item = (i: number) => ({ subjectId: `s${String(i)}`, requirement: 'ads', decision: 'granted', at: at(1) });

  async function withConsent(tracker: MemoryTracker, body: (consent: Consent) => Promise<void>): Promise<void> {
    const memory = { config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined };
    const { consent, close } = await testConsent(memory, { now: () => new Date(NOW), tracker });
    try {
      await body(consent);
    } finally {
      await close();
    }
  }

  it('stops at a batch that fails to write: the batch read meanwhile is not written, imported counts the ones before', async () => {
    const tracker = new FailingBatchTracker(2);
    await withConsent(tracker, async (consent) => {
      const error = await consent.import(Array.from({ length: 10 }, (_, i) => item(i)), { batchSize: 3 }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ConsentError);
      expect(error).to.include({ code: 'store_unavailable', status: 503 });
      expect((error as ConsentError).extensions.imported).to.equal(3);
      expect(tracker.batches).to.equal(2);
      expect((await consent.states('s2')).ads?.state).to.equal('granted');
      for (const i of [3, 5, 6]) expect((await consent.states(`s${String(i)}`)).ads?.state).to.equal('unset');
    });
  });

  it('reports a bad item of the next batch only once the batch in flight is committed', async () => {
    const tracker = new FailingBatchTracker(0);
    await withConsent(tracker, async (consent) => {
      const items = [item(0), item(1), { ...item(2), decision: 'maybe' }];
      const error = await consent.import(items, { batchSize: 2 }).catch((e: unknown) => e as ConsentError);
      expect(error).to.include({ code: 'invalid_argument' });
      expect((error as ConsentError).extensions.imported).to.equal(2);
      expect((await consent.states('s1')).ads?.state).to.equal('granted');
    });
  });

  it('writes a batch that could not be prepared ahead all the same', async () => {
    const tracker = new UnpreparedTracker();
    await withConsent(tracker, async (consent) => {
      expect(await consent.import(Array.from({ length: 7 }, (_, i) => item(i)), { batchSize: 3 })).to.deep.equal({ imported: 7 });
      expect(tracker.prepared).to.deep.equal([null, null, null]);
      expect((await consent.states('s6')).ads?.state).to.equal('granted');
      expect(await consent.verify()).to.include({ ok: true, checked: 7 });
    });
  });

  it('waits for the batch in flight when the source fails, and counts it', async () => {
    const tracker = new FailingBatchTracker(0);
    await withConsent(tracker, async (consent) => {
      async function* source() {
        yield item(0);
        yield item(1);
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new ConsentError('invalid_argument', 'the export file ends early');
      }
      const error = await consent.import(source(), { batchSize: 2 }).catch((e: unknown) => e as ConsentError);
      expect(error).to.include({ message: 'the export file ends early' });
      expect((error as ConsentError).extensions.imported).to.equal(2);
      expect((await consent.states('s1')).ads?.state).to.equal('granted');
    });
  });

  it('says how many were imported when the source fails with an error of its own, which it keeps as the cause', async () => {
    const tracker = new FailingBatchTracker(0);
    await withConsent(tracker, async (consent) => {
      const lost = new Error('cursor lost');
      for (const source of [
        (function* () { yield item(0); yield item(1); yield item(2); throw lost; })(),
        (async function* () { yield item(0); yield item(1); await new Promise((resolve) => setTimeout(resolve, 5)); yield item(2); throw lost; })(),
      ]) {
        const error = (await consent.import(source, { batchSize: 2 }).catch((e: unknown) => e)) as ConsentError;
        expect(error).to.be.instanceOf(ConsentError);
        expect(error).to.include({ code: 'internal_error', cause: lost });
        expect(error.message).to.equal('import() stopped after 2 decisions were imported: its source failed (see the cause)');
        expect(error.extensions.imported).to.equal(2);
      }
    });
  });

  it('names an unknown field in a JSON pointer, escaped', async () => {
    await withConsent(new FailingBatchTracker(0), async (consent) => {
      const error = (await consent.import([{ ...item(0), 'x/y': 1, 'm~n': 2 }]).catch((e: unknown) => e)) as ConsentError;
      expect(error).to.include({ code: 'invalid_argument' });
      expect((error.extensions.errors as Array<{ pointer: string }>).map((e) => e.pointer)).to.deep.equal(['/0/x~1y', '/0/m~0n']);
    });
  });
});
