import { expect } from 'chai';
import request from 'supertest';
import { createConsent, ConsentError, MemoryTracker, type Consent } from '../../lib/index';
import type { ConsentTracker } from '../../lib/tracker';
import { storeDeadlines } from '../../lib/core/timed-tracker';
import { REQUIREMENTS, TEST_SECRET, headerSubject, memoryLogger, routerApp } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

/** A memory tracker whose silenced methods stop answering: a store that hangs, not one that fails. */
function silentStore(): { tracker: ConsentTracker; silence(methods: string[] | 'all'): void } {
  let silenced: Set<string> | 'all' = new Set();
  const memory = new MemoryTracker();
  const tracker = new Proxy(memory, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) =>
        silenced === 'all' || silenced.has(property) ? new Promise(() => undefined) : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return { tracker, silence: (methods) => void (silenced = methods === 'all' ? 'all' : new Set(methods)) };
}

const failure = (call: Promise<unknown>): Promise<unknown> => call.then(() => null, (error: unknown) => error);

describe('a store that stops answering', () => {
  let consent: Consent;
  let store: ReturnType<typeof silentStore>;
  let token: string;

  beforeEach(async () => {
    store = silentStore();
    consent = createConsent({
      tracker: store.tracker, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), storeTimeoutMs: 100, cache: false, sweep: false,
    });
    consent.register(REQUIREMENTS);
    await consent.ready();
    const { tokens } = await consent.engine.record('ann', { analytics: 'granted', newsletter: 'granted' });
    token = tokens[0]?.token as string;
    store.silence('all');
  });
  afterEach(() => consent.close());

  const OPERATIONS: Array<[string, (c: Consent) => Promise<unknown>]> = [
    ['states()', (c) => c.states('ann')],
    ['isAllowed()', (c) => c.isAllowed('ann', 'analytics')],
    ['record()', (c) => c.record('ann', { analytics: 'denied' })],
    ['history()', (c) => c.history('ann')],
    ['export()', (c) => c.export('ann')],
    ['receipt()', (c) => c.receipt('ann')],
    ['verify({ subjectId })', (c) => c.verify({ subjectId: 'ann' })],
    ['erase()', (c) => c.erase('ann')],
    ['stateAt()', (c) => c.stateAt('ann', 'analytics', new Date())],
    ['sweep()', (c) => c.sweep()],
  ];

  for (const [name, operation] of OPERATIONS) {
    it(`fails ${name} as store_unavailable once storeTimeoutMs has passed`, async () => {
      const error = await failure(operation(consent));
      expect(error).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
    });
  }

  it('answers 503 store_unavailable on the routes once storeTimeoutMs has passed, confirmation links included', async () => {
    const app = routerApp(consent);
    expectProblem(await request(app).get('/consent/me').set('x-test-user', 'ann'), 503, 'store_unavailable');
    expectProblem(await request(app).get(`/consent/confirm/${token}`), 503, 'store_unavailable');
    expectProblem(await request(app).post(`/consent/confirm/${token}`).type('form').send(''), 503, 'store_unavailable');
  });
});

/** A memory tracker whose named methods answer `ms` late: a store busy with other work, not a hung one. */
function slowStore(methods: readonly string[], ms: number): ConsentTracker {
  const memory = new MemoryTracker();
  return new Proxy(memory, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || !methods.includes(property)) return value;
      return async (...args: unknown[]) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('whole-store verification on a busy store', () => {
  const SCANS = ['scanEvents', 'heads', 'logEntries', 'logBlocks', 'logHead'];

  it('waits longer than storeTimeoutMs for each page of a whole-store verify(), which checks the store', async () => {
    const consent = createConsent({ tracker: slowStore(SCANS, 250), secret: TEST_SECRET, logger: memoryLogger(), storeTimeoutMs: 100, cache: false, sweep: false });
    try {
      consent.register(REQUIREMENTS);
      await consent.ready();
      await consent.record('ann', { analytics: 'granted', newsletter: 'denied' });
      await consent.record('bob', { analytics: 'denied' });
      const result = await consent.verify();
      expect(result.ok, JSON.stringify(result.problems)).to.equal(true);
      expect(result.checked).to.equal(3);
      // One subject's verification answers a request: it keeps the request's deadline.
      const error = await failure(consent.verify({ subjectId: 'ann' }));
      expect(error).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
      expect((error as Error).message).to.match(/within 100 ms/);
    } finally {
      await consent.close();
    }
  });

  it('fails a whole-store verify() as store_unavailable when a page does not come within its own deadline', async () => {
    const store = silentStore();
    const { aggregateMs } = storeDeadlines;
    storeDeadlines.aggregateMs = 300;
    const consent = createConsent({ tracker: store.tracker, secret: TEST_SECRET, logger: memoryLogger(), storeTimeoutMs: 100, cache: false, sweep: false });
    try {
      consent.register(REQUIREMENTS);
      await consent.ready();
      await consent.record('ann', { analytics: 'granted' });
      store.silence(['scanEvents']);
      const started = Date.now();
      const error = await failure(consent.verify());
      expect(error).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
      expect((error as Error).message).to.equal('storage did not answer event scan within 300 ms');
      expect(Date.now() - started).to.be.at.least(290);
    } finally {
      storeDeadlines.aggregateMs = aggregateMs;
      await consent.close();
    }
  });
});

describe('close() on a store that stops answering', () => {
  it('returns after storeTimeoutMs at the most, though a whole-store verify() waits longer for its page', async () => {
    const store = silentStore();
    const consent = createConsent({ tracker: store.tracker, secret: TEST_SECRET, logger: memoryLogger(), storeTimeoutMs: 100, cache: false, sweep: false });
    consent.register(REQUIREMENTS);
    await consent.ready();
    await consent.record('ann', { analytics: 'granted' });
    store.silence(['scanEvents']);
    const verifying = failure(consent.verify());
    // The page is asked for, and will not come: its deadline is 30 s.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await consent.close();
    expect(Date.now() - started, 'close() waited').to.be.below(1_000);
    expect(await failure(consent.isAllowed('ann', 'analytics'))).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
    void verifying;
  });
});

describe('durable delivery on a store that stops answering', () => {
  it('gives up an unanswered outbox claim past storeTimeoutMs, so close() returns', async () => {
    const store = silentStore();
    store.silence(['claimOutbox']);
    const logger = memoryLogger();
    const consent = createConsent({ tracker: store.tracker, secret: TEST_SECRET, logger, storeTimeoutMs: 100, sweep: false });
    consent.register(REQUIREMENTS);
    consent.on('change', () => undefined, { name: 'mailer' });
    // ready() starts the poller, whose first claim is then in flight.
    await consent.ready();
    await consent.close();
    const [logged] = logger.errors as Array<{ message: string; error: unknown }>;
    expect(logged?.message).to.equal('express-consent: outbox delivery failed');
    expect(logged?.error).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
  });
});
