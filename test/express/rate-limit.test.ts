import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { createConsent, MemoryTracker, type Consent, type ConsentOptions } from '../../lib/index';
import { BACKENDS, headerSubject, memoryLogger, REQUIREMENTS, routerApp, TEST_SECRET, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const T0 = Date.UTC(2025, 5, 1, 12);

/** A clock the test moves by hand: no sleeping. */
function handClock() {
  let now = T0;
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

const as = (user: string) => ({ 'x-test-user': user });

for (const backend of BACKENDS) {
  backend.describe(`rate limit on subject writes (${backend.name})`, () => {
    let db: TestDatabase;
    let consent: Consent;
    let close: () => Promise<void>;
    let app: Express;
    let clock: ReturnType<typeof handClock>;

    const open = async (options: ConsentOptions) => {
      clock = handClock();
      const t = await testConsent(db, { now: clock.now, ...options });
      consent = t.consent;
      close = t.close;
      app = routerApp(consent);
    };
    const events = async (subject: string) => (await consent.history(subject, { limit: 200 })).events.length;

    beforeEach(async () => {
      db = await backend.open();
    });
    afterEach(async () => {
      await close();
      await db.cleanup();
    });

    it('answers 429 rate_limited with Retry-After beyond the limit, on PUT, POST and DELETE, and records nothing', async () => {
      await open({ rateLimit: { writes: 3, windowMs: 60_000 } });
      await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted' }).expect(200);
      await request(app).post('/consent/me').set(as('ann')).send({ decisions: { ads: 'denied', fraud: 'denied' } }).expect(200);
      await request(app).delete('/consent/me/analytics').set(as('ann')).expect(200);
      expect(await events('ann')).to.equal(4);
      const statesBefore = await consent.states('ann');
      clock.advance(20_500);
      const put = await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted', note: 'again' });
      const body = expectProblem(put, 429, 'rate_limited', '/consent/me/analytics');
      expect(put.headers['retry-after']).to.equal('40');
      expect(body.retryAfter).to.equal(40);
      expect(put.headers['cache-control']).to.equal('no-store');
      expectProblem(await request(app).post('/consent/me').set(as('ann')).send({ decisions: { ads: 'granted' } }), 429, 'rate_limited');
      expectProblem(await request(app).delete('/consent/me/ads').set(as('ann')), 429, 'rate_limited');
      expect(await events('ann'), 'a refused write records nothing').to.equal(4);
      expect(await consent.states('ann')).to.deep.equal(statesBefore);
      // Reads are not writes.
      await request(app).get('/consent/me').set(as('ann')).expect(200);
      await request(app).get('/consent/me/history').set(as('ann')).expect(200);
      await request(app).get('/consent/me/export').set(as('ann')).expect(200);
      // Other subjects count on their own.
      await request(app).put('/consent/me/analytics').set(as('bob')).send({ decision: 'granted' }).expect(200);
      expect(await events('bob')).to.equal(1);
    });

    it('does not count writes refused for what they sent (a stale version, an unknown id): they recorded nothing', async () => {
      await open({ rateLimit: { writes: 2, windowMs: 60_000 } });
      for (let i = 0; i < 3; i += 1) {
        expect((await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted', version: 9 })).status).to.equal(409);
        expect((await request(app).post('/consent/me').set(as('ann')).send({ decisions: { nope: 'granted' } })).status).to.equal(422);
      }
      expect(await events('ann')).to.equal(0);
      await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted' }).expect(200);
      await request(app).delete('/consent/me/analytics').set(as('ann')).expect(200);
      expectProblem(await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted' }), 429, 'rate_limited');
      expect(await events('ann')).to.equal(2);
    });

    it('starts a new window once the current one has passed', async () => {
      await open({ rateLimit: { writes: 2, windowMs: 10_000 } });
      const put = () => request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted' });
      await put().expect(200);
      await put().expect(200);
      clock.advance(9_001);
      const refused = await put();
      expectProblem(refused, 429, 'rate_limited');
      expect(refused.headers['retry-after']).to.equal('1');
      clock.advance(999);
      await put().expect(200);
      await put().expect(200);
      expectProblem(await put(), 429, 'rate_limited');
      expect(await events('ann')).to.equal(4);
    });

    it('never limits the host\'s own calls, nor counts them', async () => {
      await open({ rateLimit: { writes: 1, windowMs: 60_000 } });
      for (let i = 0; i < 5; i += 1) await consent.record('ann', { analytics: i % 2 ? 'denied' : 'granted' });
      await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted' }).expect(200);
      expectProblem(await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'denied' }), 429, 'rate_limited');
      await consent.record('ann', { analytics: 'denied' });
      expect(await events('ann')).to.equal(7);
    });

    it('counts per instance, across every router it builds', async () => {
      await open({ rateLimit: { writes: 2, windowMs: 60_000 } });
      const other = routerApp(consent);
      await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted' }).expect(200);
      await request(other).put('/consent/me/analytics').set(as('ann')).send({ decision: 'denied' }).expect(200);
      expectProblem(await request(app).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted' }), 429, 'rate_limited');
      expectProblem(await request(other).put('/consent/me/analytics').set(as('ann')).send({ decision: 'granted' }), 429, 'rate_limited');
    });
  });
}

describe('rate limit defaults and rateLimit: false', () => {
  let consent: Consent | null = null;
  afterEach(async () => {
    await consent?.close();
    consent = null;
  });

  const memoryApp = async (options: ConsentOptions) => {
    consent = createConsent({ tracker: new MemoryTracker(), subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), now: () => new Date(T0), ...options });
    consent.register(REQUIREMENTS);
    await consent.ready();
    return routerApp(consent);
  };
  /** `count` writes of one subject, `parallel` at a time; their statuses. */
  const writes = async (app: Express, count: number, parallel = 50): Promise<number[]> => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i += parallel) {
      const batch = Array.from({ length: Math.min(parallel, count - i) }, (_, j) =>
        request(app).put('/consent/me/analytics').set(as('busy')).send({ decision: (i + j) % 2 ? 'denied' : 'granted' }));
      for (const res of await Promise.all(batch)) statuses.push(res.status);
    }
    return statuses;
  };

  it('by default lets 200 concurrent writes of one subject through, and stops the 1001st in a minute', async function () {
    this.timeout(60_000);
    const app = await memoryApp({});
    const burst = await Promise.all(Array.from({ length: 200 }, () => request(app).put('/consent/me/analytics').set(as('busy')).send({ decision: 'granted' })));
    expect(burst.map((res) => res.status).filter((s) => s !== 200)).to.deep.equal([]);
    expect((await writes(app, 800)).filter((s) => s !== 200)).to.deep.equal([]);
    const refused = await request(app).put('/consent/me/analytics').set(as('busy')).send({ decision: 'granted' });
    expectProblem(refused, 429, 'rate_limited');
    expect(refused.headers['retry-after']).to.equal('60');
  });

  it('rateLimit: false turns it off', async function () {
    this.timeout(60_000);
    const app = await memoryApp({ rateLimit: false });
    expect((await writes(app, 1_050)).filter((s) => s !== 200)).to.deep.equal([]);
  });
});
