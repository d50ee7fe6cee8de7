import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import knexFactory, { type Knex } from 'knex';
import { ConsentError, createConsent, KnexTracker } from '../../lib/index';
import type { ConsentTracker } from '../../lib/tracker';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const SECRET = 'close-reads-secret-0123456789abcdef';
const quiet = { warn() {}, error() {} };

/**
 * A tracker whose audience reads take `ms` longer, that notes every call made once `closed()`
 * says the instance was closed: a read still out when close() is called, as a listing's pages
 * read ahead are.
 */
function watchedTracker(inner: KnexTracker, ms: number, closed: () => boolean): { tracker: ConsentTracker; late: string[]; out: () => number } {
  const late: string[] = [];
  let out = 0;
  const tracker = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        if (closed()) late.push(property);
        const call = () => (value as (...a: unknown[]) => unknown).apply(target, args);
        if (property !== 'audienceRows' && property !== 'audience') return call();
        out += 1;
        return new Promise((resolve) => setTimeout(resolve, ms)).then(call).finally(() => { out -= 1; });
      };
    },
  });
  return { tracker, late, out: () => out };
}

const ANALYTICS = { id: 'analytics', title: 'Analytics', description: 'Usage statistics.' };

/** Runs `test` on a new SQLite file with its Knex instance and a tracker on it, then closes all three. */
async function onStore(test: (knex: Knex, inner: KnexTracker) => Promise<void>): Promise<void> {
  const file = tempSqliteFile();
  const knex = knexFactory(sqliteKnexConfig(file.filename));
  const inner = new KnexTracker(knex);
  try {
    await test(knex, inner);
  } finally {
    await inner.close();
    await knex.destroy();
    file.cleanup();
  }
}

describe('consent.close() with storage reads under way', () => {
  it('waits for the reads out, and sends none after it resolved: a listing its caller dropped, then knex.destroy()', () => onStore(async (_knex, inner) => {
    let closed = false;
    const watched = watchedTracker(inner, 40, () => closed);
    const consent = createConsent({ tracker: watched.tracker, secret: SECRET, logger: quiet, sweep: false });
    consent.register([ANALYTICS]);
    await consent.ready();
    await consent.import(Array.from({ length: 300 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: 'granted', at: new Date(Date.now() - 1000) })));
    // One id taken, and the listing dropped: its next pages are being read ahead.
    const listing = consent.audience('analytics', { batchSize: 20 })[Symbol.asyncIterator]();
    expect((await listing.next()).done).to.equal(false);
    expect(watched.out(), 'a page read ahead is out').to.be.above(0);
    await consent.close();
    closed = true;
    expect(watched.out(), 'reads still out once close() resolved').to.equal(0);
    // What was read before close() is still listed; then the listing fails, as the store is closed.
    let failure: unknown = null;
    try {
      for (;;) if ((await listing.next()).done === true) break;
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
    expect((failure as Error).message).to.match(/closed/);
    expect(watched.late, 'storage calls after close()').to.deep.equal([]);
  }));

  it('waits for a ready() under way: no query reaches the Knex instance once close() resolved', () => onStore(async (knex, inner) => {
    let closed = false;
    const late: string[] = [];
    knex.on('query', (q: { sql: string }) => { if (closed) late.push(q.sql); });
    // The change feed connects slowly (a PostgreSQL listener on a far server would).
    let subscribing: (() => void) | null = null;
    const connecting = new Promise<void>((resolve) => { subscribing = resolve; });
    const tracker = new Proxy(inner, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'subscribe' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          subscribing?.();
          await new Promise((resolve) => setTimeout(resolve, 150));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const consent = createConsent({ tracker, secret: SECRET, logger: quiet });
    consent.register([ANALYTICS]);
    const starting = consent.ready().then(() => 'ready', (error: unknown) => error);
    await connecting;
    await consent.close();
    closed = true;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(late, 'queries after close()').to.deep.equal([]);
    expect(await starting).to.equal('ready');
  }));

  it('answers the calls made after close() as store_unavailable without reaching the store', () => onStore(async (_knex, inner) => {
    let closed = false;
    const watched = watchedTracker(inner, 0, () => closed);
    const consent = createConsent({ tracker: watched.tracker, secret: SECRET, logger: quiet, sweep: false, cache: false });
    consent.register([ANALYTICS]);
    await consent.ready();
    await consent.record('ann', { analytics: 'granted' });
    await consent.close();
    closed = true;
    for (const call of [() => consent.isAllowed('ann', 'analytics'), () => consent.record('ann', { analytics: 'denied' }), () => consent.verify()]) {
      const error = await call().then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConsentError).with.property('code', 'store_unavailable');
    }
    expect(watched.late).to.deep.equal([]);
  }));

  it('answers requests after close() 503, and says why once in the log, not once per request', () => onStore(async (_knex, inner) => {
    const errors: string[] = [];
    const consent = createConsent({ tracker: inner, secret: SECRET, logger: { warn() {}, error: (m: string) => void errors.push(m) }, sweep: false, cache: false, subject: (req) => req.headers['x-user'] as string | undefined });
    consent.register([ANALYTICS]);
    await consent.ready();
    const app = express();
    app.use('/consent', consent.router());
    app.get('/track', consent.requireConsent('analytics'), (_req, res) => { res.send('ok'); });
    await consent.close();
    for (let i = 0; i < 5; i += 1) {
      await request(app).get('/track').set('x-user', 'ann').expect(503);
      await request(app).put('/consent/me/analytics').set('x-user', 'ann').send({ decision: 'granted' }).expect(503);
    }
    const closing = errors.filter((m) => m.includes('was closed'));
    expect(closing).to.deep.equal(['express-consent: answering 503, the consent instance was closed (consent.close()): requests that need the store get 503 until the server stops']);
  }));
});
