import { expect } from 'chai';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import type { ConsentTracker } from '../../lib/tracker';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { intercept } from '../helpers/intercept';
import { storedRecordsOf } from '../helpers/records';

const SECRET = 'verify-while-writing-secret-0123456789abcdef';
const quiet = { warn() {}, error() {} };
type Row = Record<string, unknown>;

type Order = 'events first' | 'heads first';

/**
 * A tracker whose first whole-store page of one kind (heads, or events) waits for the other's
 * first page and for a write made in between: the check then reads a chain's head and its events
 * on either side of that write, as a verification running while people decide does.
 */
function racingTracker(inner: KnexTracker, order: Order, write: () => Promise<unknown>): ConsentTracker {
  let firstRead: () => void = () => undefined;
  const firstDone = new Promise<void>((resolve) => { firstRead = resolve; });
  let armed = false;
  const whole = (query: { chain?: string; chains?: string[]; pseudonym?: string }) =>
    query.chain === undefined && query.chains === undefined && query.pseudonym === undefined;
  const first = order === 'events first' ? 'scanEvents' : 'heads';
  const second = order === 'events first' ? 'heads' : 'scanEvents';
  let secondArmed = false;
  return new Proxy(inner, {
    get(target, name, receiver) {
      if (name === 'arm') return () => { armed = true; secondArmed = true; };
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      if (name === first) {
        return async (query: { chain?: string; chains?: string[]; pseudonym?: string }) => {
          const page = await method(query);
          if (armed && whole(query)) { armed = false; firstRead(); }
          return page;
        };
      }
      if (name === second) {
        return async (query: { chain?: string; chains?: string[]; pseudonym?: string }) => {
          if (secondArmed && whole(query)) {
            secondArmed = false;
            await firstDone;
            await write();
          }
          return method(query);
        };
      }
      return method;
    },
  });
}

describeEachDatabase('verify() while people decide', (open) => {
  let db: TestDatabase;
  let consent: Consent;
  let pending: () => Promise<unknown> = async () => undefined;

  const start = async (order: Order) => {
    const tracker = racingTracker(new KnexTracker(db.knex), order, () => pending());
    consent = createConsent({ tracker, secret: SECRET, logger: quiet });
    consent.register([{ id: 'a', title: 'A', description: 'A' }, { id: 'b', title: 'B', description: 'B' }]);
    await consent.ready();
    for (const subject of ['alice', 'bob', 'carol']) await consent.record(subject, { a: 'granted' });
    return tracker as unknown as { arm(): void };
  };

  beforeEach(async () => { db = await open(); });
  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  for (const order of ['events first', 'heads first'] as const) {
    it(`reports nothing for a write made between a chain's head and its events (${order})`, async () => {
      const tracker = await start(order);
      // A decision on an existing chain, and a new chain, written between the two reads.
      pending = async () => {
        await consent.record('bob', { a: 'denied', b: 'granted' });
        await consent.record('dave', { b: 'granted' });
      };
      tracker.arm();
      const result = await consent.verify();
      expect(result.problems).to.deep.equal([]);
      expect(result.ok).to.equal(true);
      expect((await consent.verify()).problems).to.deep.equal([]);
    });
  }

  it('reports nothing, and refuses no export or receipt, for one subject written while its chain is read', async () => {
    await start('heads first');
    let writes = 0;
    const writing = (async () => {
      for (; writes < 40; writes += 1) await consent.record('bob', { a: writes % 2 === 0 ? 'denied' : 'granted' });
    })();
    const results = [];
    const refused: unknown[] = [];
    while (writes < 40) {
      results.push(await consent.verify({ subjectId: 'bob' }));
      // The reads that check the chain before answering (a head paired with records it did not seal was refused).
      await consent.export('bob').catch((error: unknown) => refused.push(error));
      await consent.receipt('bob').catch((error: unknown) => refused.push(error));
    }
    await writing;
    expect(results.filter((r) => !r.ok)).to.deep.equal([]);
    expect(refused).to.deep.equal([]);
  });

  it('still catches a head and records put back from an earlier copy, with the newer events left', async () => {
    const tracker = await start('events first');
    const pseudonym = Buffer.from(consent.engine.pseudonym('bob'), 'hex');
    // Bob's subject row: his head and his records.
    const subject = (await db.knex('consent_subjects').where({ pseudonym }).first()) as Row;
    const records = await storedRecordsOf(db.knex, subject.chain as Buffer);
    await consent.record('bob', { a: 'denied' });
    expect(await storedRecordsOf(db.knex, subject.chain as Buffer)).to.not.deep.equal(records);
    // Only bob's head and records go back: his withdrawal's event stays, and the head no longer names it.
    await db.knex('consent_subjects').where({ chain: subject.chain }).update(subject);
    expect(await storedRecordsOf(db.knex, subject.chain as Buffer)).to.deep.equal(records);
    pending = async () => undefined;
    tracker.arm();
    const withdrawal = (await consent.history('bob', { limit: 1 })).events[0]?.id;
    // The withdrawal continues the chain under its seal: the library wrote it, and the head was set back.
    const rolledBack = { eventId: withdrawal, kind: 'rollback', chain: (subject.chain as Buffer).toString('hex') };
    expect((await consent.verify()).problems).to.deep.include(rolledBack);
    expect((await consent.verify({ subjectId: 'bob' })).problems).to.deep.include(rolledBack);
  });
});

describeEachDatabase('verify() against a head swapped between earlier copies at every read', (open) => {
  let db: TestDatabase;
  let consent: Consent;
  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('reports the events beyond the head, though the head never reads the same twice', async () => {
    db = await open();
    let copies: Row[] = [];
    let swaps = 0;
    // Someone with write access puts back one of bob's earlier subject rows before each read of
    // the heads, never the same one twice in a row: a check that took the moving head for the
    // library writing would check it only against the events up to it.
    const swap = async (): Promise<void> => {
      const copy = copies[swaps % copies.length] as Row;
      swaps += 1;
      await db.knex('consent_subjects').where({ chain: copy.chain }).update(copy);
    };
    const tracker = intercept(new KnexTracker(db.knex), {
      heads: (method) => async (query: unknown) => {
        if (copies.length > 0) await swap();
        return method(query);
      },
    }) as unknown as ConsentTracker;
    consent = createConsent({ tracker, secret: SECRET, logger: quiet });
    consent.register([{ id: 'a', title: 'A', description: 'A' }]);
    await consent.ready();
    await consent.record('alice', { a: 'granted' });
    const pseudonym = Buffer.from(consent.engine.pseudonym('bob'), 'hex');
    const saved: Row[] = [];
    for (let i = 0; i < 4; i += 1) {
      await consent.record('bob', { a: 'granted' });
      saved.push((await db.knex('consent_subjects').where({ pseudonym }).first()) as Row);
      await consent.record('bob', { a: 'denied' });
    }
    const withdrawal = (await consent.history('bob', { limit: 1 })).events[0]?.id;
    expect((await consent.verify()).problems).to.deep.equal([]);
    copies = saved;
    const whole = await consent.verify();
    expect(swaps, 'the head moved between the reads').to.be.at.least(3);
    expect(whole.ok).to.equal(false);
    const rolledBack = { eventId: withdrawal, kind: 'rollback', chain: (saved[0]?.chain as Buffer).toString('hex') };
    expect(whole.problems).to.deep.include(rolledBack);
    const own = await consent.verify({ subjectId: 'bob' });
    expect(own.problems).to.deep.include(rolledBack);
  });
});

describeEachDatabase('verify() and log entries that commit out of key order', (open) => {
  let db: TestDatabase;
  let consent: Consent;
  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('reads the log again from its seal: an entry committed late under a lower key is found, not reported rolled back', async () => {
    db = await open();
    const inner = new KnexTracker(db.knex);
    let hidden: string | null = null;
    let armed = false;
    let firstRead = true;
    let writes: Promise<void> | null = null;
    const tracker = intercept(inner, {
      // The scan reads on once the two writes are made: it sees their events.
      scanEvents: (method) => async (query: { chain?: string }) => {
        if (armed && query.chain === undefined && writes !== null) await writes;
        return method(query);
      },
      logEntries: (method) => async (query: { after?: string; limit: number }) => {
        if (armed && writes === null) {
          // Two writes while the check runs; the first one's entry is not visible to the first
          // read of the log (as a PostgreSQL transaction with a lower id that commits later).
          writes = (async () => {
            const before = new Set(((await method({ limit: 100_000 })) as Array<{ key: string }>).map((e) => e.key));
            await consent.record('late-1', { a: 'granted' });
            await consent.record('late-2', { a: 'granted' });
            const added = ((await method({ limit: 100_000 })) as Array<{ key: string }>).filter((e) => !before.has(e.key));
            hidden = added[0]?.key ?? null;
          })();
          await writes;
        }
        const page = (await method(query)) as Array<{ key: string }>;
        if (!armed || !firstRead) return page;
        firstRead = false;
        return page.filter((e) => e.key !== hidden);
      },
    }) as unknown as ConsentTracker;
    consent = createConsent({ tracker, secret: SECRET, logger: quiet });
    consent.register([{ id: 'a', title: 'A', description: 'A' }]);
    await consent.ready();
    // More than a page of events, so that the scan reads the new chains after the writes.
    await consent.import((function* () { for (let i = 0; i < 2100; i += 1) yield { subjectId: `u${String(i)}`, requirement: 'a', decision: 'granted' as const, at: Date.now() - 60_000 }; })());
    armed = true;
    const result = await consent.verify();
    expect(hidden, 'the late entry was hidden from the first read').to.not.equal(null);
    expect(result.problems).to.deep.equal([]);
  });
});

describeEachDatabase('reads of a subject erased while they read it', (open) => {
  let db: TestDatabase;
  let consent: Consent;
  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('answer as for the erased subject (or 503 to try again), never an integrity failure', async () => {
    db = await open();
    let eraseNext = false;
    const inner = new KnexTracker(db.knex);
    const tracker = intercept(inner, {
      // The subject's head is read; the erasure commits before its events are.
      scanEvents: (method) => async (query: { chain?: string }) => {
        if (eraseNext && query.chain !== undefined) { eraseNext = false; await consent.erase('ann'); }
        return method(query);
      },
    }) as unknown as ConsentTracker;
    const errors: string[] = [];
    consent = createConsent({ tracker, secret: SECRET, logger: { warn() {}, error: (m: string) => { errors.push(m); } } });
    consent.register([{ id: 'a', title: 'A', description: 'A' }]);
    await consent.ready();
    const reads: Array<[string, () => Promise<unknown>]> = [
      ['stateAt', () => consent.stateAt('ann', 'a', Date.now())],
      ['receipt', () => consent.receipt('ann')],
      ['verify', () => consent.verify({ subjectId: 'ann' })],
    ];
    for (const [name, read] of reads) {
      await consent.record('ann', { a: 'granted' }, { note: 'personal' });
      eraseNext = true;
      const result: unknown = await read().catch((error: unknown) => error);
      expect(eraseNext, name).to.equal(false);
      expect(result, name).to.not.be.instanceOf(Error);
      if (name === 'verify') expect(result).to.deep.include({ ok: true });
    }
    await consent.record('ann', { a: 'granted' }, { note: 'personal' });
    eraseNext = true;
    const exported: unknown = await consent.export('ann').catch((error: unknown) => error);
    if (exported instanceof Error) expect(exported).to.include({ code: 'store_unavailable' });
    expect(errors, 'no integrity failure logged').to.deep.equal([]);
  });
});
