import { expect } from 'chai';
import request from 'supertest';
import knexFactory, { type Knex } from 'knex';
import { createConsent, ConsentError, type Consent } from '../../lib/index';
import { BACKENDS, REQUIREMENTS, TEST_SECRET, headerSubject, memoryLogger, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { pgKnexConfig } from '../helpers/databases';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { guardApp } from '../helpers/guard-app';
import { expectProblem } from '../helpers/problem';
import { StalledTracker, tcpProxy } from '../helpers/trackers';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

describe('requireConsent and ready()', () => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;
  let logger: ReturnType<typeof memoryLogger>;

  beforeEach(async () => {
    db = await sqlite.open();
    knex = knexFactory(db.config);
    logger = memoryLogger();
    consent = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger });
    consent.register(REQUIREMENTS);
  });
  afterEach(async () => {
    // ready() may reject early (unknown ids) while the engine still migrates: let it finish.
    await consent.engine.ready().catch(() => undefined);
    await consent.close();
    await knex.destroy();
    await db.cleanup();
  });

  it('lets requests that arrive before ready() wait for it', async () => {
    const { app } = guardApp(consent);
    const res = await request(app).get('/track').set('x-test-user', 'ann');
    expectProblem(res, 403, 'consent_required');
    expect(consent.ready()).to.equal(consent.ready());
    await consent.ready();
  });

  it('rejects ready() listing every unknown id of guards and forms, and answers 503 meanwhile', async () => {
    const app = (await import('express')).default();
    let called = 0;
    app.get('/a', consent.requireConsent(['analytics', 'nope']), () => void (called += 1));
    app.post('/b', consent.collect(['zip', 'terms']), () => void (called += 1));
    app.use('/consent', consent.router());
    const error = await consent.ready().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(ConsentError);
    expect((error as ConsentError).code).to.equal('unknown_requirement');
    expect((error as ConsentError).extensions.ids).to.deep.equal(['nope', 'zip']);
    expectProblem(await request(app).get('/a').set('x-test-user', 'ann'), 503, 'store_unavailable');
    expectProblem(await request(app).post('/b').send({}), 503, 'store_unavailable');
    expectProblem(await request(app).get('/consent/me').set('x-test-user', 'ann'), 503, 'store_unavailable');
    expect(called).to.equal(0);
  });

  it('after ready() rejected for an unknown id, every method that waits for it rejects with that error, and nothing is stored', async () => {
    consent.requireConsent('typo');
    const error = await consent.ready().then(() => null, (e: unknown) => e);
    expect(error).to.include({ code: 'unknown_requirement' });
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['record', () => consent.record('ann', { analytics: 'granted' })],
      ['isAllowed', () => consent.isAllowed('ann', 'analytics')],
      ['states', () => consent.states('ann')],
      ['history', () => consent.history('ann')],
      ['verify', () => consent.verify()],
    ];
    for (const [name, call] of calls) expect(await call().then(() => null, (e: unknown) => e), name).to.equal(error);
    expect(await knex.schema.hasTable('consent_events'), 'the store was never touched').to.equal(false);
    // The HTTP side answers 503, and the log names the cause.
    const app = (await import('express')).default();
    app.use('/consent', consent.router());
    expectProblem(await request(app).get('/consent/me').set('x-test-user', 'ann'), 503, 'store_unavailable');
    const logged = logger.errors.at(-1) as { message: string; error: unknown };
    expect(logged.message).to.match(/^express-consent: answering 503, not ready: ready\(\) failed \(.*no requirement is registered as "typo".*\); this instance answers 503 until the process is restarted with the cause fixed$/);
    expect((logged.error as Error).message).to.match(/no requirement is registered as "typo"/);
    // It stays failed: one line says so, not one per request.
    const lines = logger.errors.length;
    expectProblem(await request(app).get('/consent/me').set('x-test-user', 'bob'), 503, 'store_unavailable');
    expect(logger.errors.length).to.equal(lines);
  });

  it('after ready() rejected, answers what the request sent first, in SPEC order, and 503 last', async () => {
    consent.requireConsent('typo');
    await consent.ready().catch(() => undefined);
    const app = (await import('express')).default();
    app.use('/consent', consent.router());
    const as = (r: request.Test) => r.set('x-test-user', 'ann');
    expectProblem(await as(request(app).put('/consent/me/nope')).send({ decision: 'granted' }), 404, 'unknown_requirement');
    expectProblem(await as(request(app).delete('/consent/me/nope')), 404, 'unknown_requirement');
    expectProblem(await as(request(app).put('/consent/me/analytics')).send({ decision: 'maybe' }), 400, 'invalid_body');
    expectProblem(await as(request(app).post('/consent/me')).send({ decisions: { nope: 'granted' } }), 422, 'unknown_requirement');
    expectProblem(await as(request(app).post('/consent/me')).send({ decisions: { analytics: { decision: 'granted', version: 9 } } }), 409, 'version_mismatch');
    expectProblem(await as(request(app).get('/consent/me/history?limit=0')), 400, 'invalid_body');
    expectProblem(await as(request(app).put('/consent/me/analytics')).send({ decision: 'granted' }), 503, 'store_unavailable');
    expectProblem(await as(request(app).get('/consent/me/history')), 503, 'store_unavailable');
    expect(await knex.schema.hasTable('consent_events'), 'the store was never touched').to.equal(false);
  });

  it('after ready() rejected, the admin decisions route answers what was sent before 503', async () => {
    const admin = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger, admin: { authorize: headerAdmin } });
    admin.register(REQUIREMENTS);
    admin.requireConsent('typo');
    await admin.ready().catch(() => undefined);
    try {
      const app = (await import('express')).default();
      app.use('/consent', admin.router());
      const post = (body: unknown) => request(app).post('/consent/admin/subjects/ann/decisions').set(ADMIN).send(body as object);
      expectProblem(await request(app).post('/consent/admin/subjects/ann/decisions').send({ decisions: { analytics: 'granted' } }), 403, 'forbidden');
      expectProblem(await post({ decisions: { analytics: 'maybe' } }), 400, 'invalid_body');
      expectProblem(await post({ decisions: { nope: 'granted' } }), 422, 'unknown_requirement');
      expectProblem(await post({ decisions: { analytics: { decision: 'granted', version: 9 } } }), 409, 'version_mismatch');
      expectProblem(await post({ decisions: { analytics: 'granted' } }), 503, 'store_unavailable');
    } finally {
      await admin.close();
    }
  });

  it('throws at once for bad arguments, and for unknown ids after ready()', async () => {
    expect(() => consent.requireConsent([])).to.throw(ConsentError).with.property('code', 'invalid_argument');
    expect(() => consent.requireConsent('analytics', { redirekt: '/x' } as never)).to.throw(/redirect/);
    await consent.ready();
    for (const make of [() => consent.requireConsent('nope'), () => consent.requireConsent(['analytics', 'nope']), () => consent.collect('nope'), () => consent.formFields('nope')]) {
      expect(make).to.throw(ConsentError).with.property('code', 'unknown_requirement');
    }
    expect(() => consent.requireConsent([1] as never)).to.throw(ConsentError).with.property('code', 'invalid_argument');
  });
});

describe('requireConsent with a slow store', () => {
  it('waits at most storeTimeoutMs, then answers 503 without calling the handler', async () => {
    const db = await sqlite.open();
    const knex = knexFactory(db.config);
    const tracker = new StalledTracker(knex);
    const consent = createConsent({ tracker, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), storeTimeoutMs: 150 });
    consent.register(REQUIREMENTS);
    await consent.ready();
    const { app, calls } = guardApp(consent);
    try {
      expectProblem(await request(app).get('/track').set('x-test-user', 'ann'), 503, 'store_unavailable');
      expect(calls).to.deep.equal({});
    } finally {
      await tracker.release();
      await consent.close();
      await knex.destroy();
      await db.cleanup();
    }
  });
});

(BACKENDS[1] as (typeof BACKENDS)[number]).describe('requireConsent when PostgreSQL goes away', () => {
  it('answers 503 and never calls the handler', async () => {
    const db = await (BACKENDS[1] as (typeof BACKENDS)[number]).open();
    const target = new URL((db.config as { connection: string }).connection);
    const proxy = await tcpProxy(target.hostname, Number(target.port));
    target.port = String(proxy.port);
    const knex = knexFactory({ ...pgKnexConfig(target.toString()), acquireConnectionTimeout: 1000 });
    const t = await testConsent(db, { knex, storeTimeoutMs: 1500 });
    const { app, calls } = guardApp(t.consent);
    try {
      await t.consent.record('ann', { analytics: 'granted' });
      await proxy.shut();
      expectProblem(await request(app).get('/track').set('x-test-user', 'bob'), 503, 'store_unavailable');
      expectProblem(await request(app).get('/consent/me').set('x-test-user', 'bob'), 503, 'store_unavailable');
      expect(calls).to.deep.equal({});
    } finally {
      await t.consent.close();
      await knex.destroy();
      await t.knex.destroy();
      await db.cleanup();
    }
  });

  it('answers 503 when ready() failed because the server is closed', async () => {
    const db = await (BACKENDS[1] as (typeof BACKENDS)[number]).open();
    const proxy = await tcpProxy('127.0.0.1', 1);
    await proxy.shut();
    const knex = knexFactory({ client: 'pg', connection: `postgres://postgres@127.0.0.1:${String(proxy.port)}/x`, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 1000 });
    const consent = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger() });
    consent.register(REQUIREMENTS);
    const { app, calls } = guardApp(consent);
    try {
      expectProblem(await request(app).get('/track').set('x-test-user', 'ann'), 503, 'store_unavailable');
      await consent.ready().then(() => expect.fail('ready() should reject'), () => undefined);
      expect(calls).to.deep.equal({});
    } finally {
      await consent.close();
      await knex.destroy();
      await db.cleanup();
    }
  });
});
