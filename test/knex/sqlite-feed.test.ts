import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { createConsent, type Consent } from '../../lib/index';
import { defaultKnex } from '../../lib/knex/default-knex';
import { REQUIREMENTS, TEST_SECRET, headerSubject, memoryLogger } from '../helpers/consent-setup';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { guardApp } from '../helpers/guard-app';
import { waitUntil } from '../core/wait-until';

const SCRIPT = fileURLToPath(new URL('./fixtures/feed-guard-app.ts', import.meta.url));

/** Starts the guarded app on `file` in its own process; resolves with its base URL once it listens. */
function start(file: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], { env: { ...process.env, FEED_DB: file }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve({ child, base: `http://127.0.0.1:${String(match[1])}` });
    });
    child.on('exit', (code) => { reject(new Error(`the app exited (${String(code)}) before listening`)); });
  });
}

async function guardStatus(base: string, user: string): Promise<number> {
  const res = await fetch(`${base}/track`, { headers: { 'x-test-user': user } });
  await res.arrayBuffer();
  return res.status;
}

describe('SQLite change feed across processes (one file, the embedded default settings)', function (this: Mocha.Suite) {
  this.timeout(60_000);

  it('makes process B refuse after process A withdraws, though B caches states for ten minutes', async () => {
    const file = tempSqliteFile();
    const knex = defaultKnex(file.filename);
    const a = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger() });
    a.register(REQUIREMENTS);
    await a.ready();
    const b = await start(file.filename);
    try {
      const delays: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const subject = `p${String(i)}`;
        await a.record(subject, { analytics: 'granted' });
        await waitUntil(async () => (await guardStatus(b.base, subject)) === 200, 'B to allow');
        expect(await guardStatus(b.base, subject), 'served from B\'s cache').to.equal(200);
        const started = performance.now();
        await a.record(subject, { analytics: 'denied' });
        await waitUntil(async () => (await guardStatus(b.base, subject)) === 403, 'B to refuse');
        delays.push(performance.now() - started);
      }
      const ms = delays.map((d) => d.toFixed(0)).join(', ');
      console.log(`      withdrawal in A refused by B after ${ms} ms (from the start of the write; polls every 20 ms)`);
    } finally {
      b.child.kill('SIGTERM');
      await a.close();
      await knex.destroy();
      file.cleanup();
    }
  });
});

describe('SQLite change feed when its poll fails', function (this: Mocha.Suite) {
  this.timeout(30_000);
  const TTL_MS = 400;
  let file: ReturnType<typeof tempSqliteFile>;
  let knex: Knex;
  let locker: Knex;
  let consent: Consent;

  beforeEach(async () => {
    file = tempSqliteFile();
    // Rollback-journal mode without a busy timeout: a connection holding an exclusive lock
    // makes every read of the others fail at once, the poll's included.
    knex = knexFactory(sqliteKnexConfig(file.filename));
    locker = knexFactory(sqliteKnexConfig(file.filename));
  });
  afterEach(async () => {
    await consent.close();
    await knex.destroy();
    await locker.destroy();
    file.cleanup();
  });

  it('says so once, falls back to ttlMs (failing closed), and keeps states again once the poll succeeds', async () => {
    const logger = { ...memoryLogger(), warnings: [] as string[] };
    logger.warn = (message: string) => void logger.warnings.push(message);
    consent = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger, cache: { max: 100, ttlMs: TTL_MS } });
    consent.register(REQUIREMENTS);
    await consent.ready();
    const { app } = guardApp(consent);
    const as = (user: string) => ({ 'x-test-user': user });
    await consent.record('ann', { analytics: 'granted' });
    await request(app).get('/track').set(as('ann')).expect(200);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS * 2));
    await request(app).get('/track').set(as('ann')).expect(200);

    await locker.raw('BEGIN EXCLUSIVE');
    try {
      // The log's background seal may fail under the lock too: wait for the feed's own report.
      await waitUntil(() => (logger.errors as Array<{ message: string }>).some((e) => /change feed/.test(e.message)), 'the broken feed to be reported');
      expect(logger.warnings.filter((w) => /change feed/.test(w))).to.deep.equal([]);
      // Read more than ttlMs ago and no poll vouches for it: not served; the read fails closed.
      await request(app).get('/track').set(as('ann')).expect(503);
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await locker.raw('ROLLBACK');
    }
    const reports = (logger.errors as Array<{ message: string }>).filter((e) => /change feed/.test(e.message));
    expect(reports.map((e) => e.message), 'one report for an outage of many failed polls').to.deep.equal([
      'express-consent: the change feed broke; cached states expire after cache.ttlMs until it is back',
    ]);

    await waitUntil(() => logger.warnings.some((w) => /change feed is back/.test(w)), 'the recovery to be reported');
    await request(app).get('/track').set(as('ann')).expect(200);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS * 2));
    // Kept past ttlMs again: a change through the locker's connection is what drops it.
    await request(app).get('/track').set(as('ann')).expect(200);
    const other = createConsent({ knex: locker, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), cache: false });
    other.register(REQUIREMENTS);
    await other.ready();
    await other.record('ann', { analytics: 'denied' });
    await other.close();
    await waitUntil(async () => (await request(app).get('/track').set(as('ann'))).status === 403, 'the withdrawal to show');
  });
});
