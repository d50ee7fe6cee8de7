import { expect } from 'chai';
import { createRequire } from 'node:module';
import type { Consent } from '../../lib/index';
import knexFactory from 'knex';
import request from 'supertest';
import { memoryLogger, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { faultProxy } from '../helpers/faults';
import { guardApp } from '../helpers/guard-app';
import { allStoredRecords, changeRecord } from '../helpers/records';

interface PgClient {
  connect(): Promise<void>;
  query(sql: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): void;
  end(): Promise<void>;
}
const pg = createRequire(import.meta.url)('pg') as { Client: new (config: { connectionString: string }) => PgClient };

const LONG_TTL = { max: 1000, ttlMs: 600_000 };

/** A logger that lists what it said about the change feed: `broke` and `back`, in order. */
function feedLogger(): ReturnType<typeof memoryLogger> & { reports(): string[] } {
  const said: string[] = [];
  const note = (message: string) => {
    if (/change feed broke/.test(message)) said.push('broke');
    if (/change feed is back/.test(message)) said.push('back');
  };
  const base = memoryLogger();
  return { ...base, warn: note, error: (message, error) => { note(message); base.error(message, error); }, reports: () => [...said] };
}

/** Polls `check` every 10 ms until it holds; the mocha timeout bounds the wait. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}

describePg('cross-process cache invalidation (PostgreSQL LISTEN/NOTIFY)', () => {
  let url: string;
  let drop: () => Promise<void>;
  let db: TestDatabase;
  const opened: Array<() => Promise<void>> = [];

  async function instance(options: Parameters<typeof testConsent>[1] = {}): Promise<Consent> {
    const { consent, close } = await testConsent(db, { cache: LONG_TTL, logger: memoryLogger(), ...options });
    opened.push(close);
    return consent;
  }

  async function listenerBackends(): Promise<number[]> {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()",
      );
      return rows.map((row) => Number(row.pid));
    } finally {
      await admin.end();
    }
  }

  beforeEach(async () => {
    ({ url, drop } = await createPgDatabase());
    db = { config: pgKnexConfig(url), cleanup: async () => undefined };
  });
  afterEach(async () => {
    for (const close of opened.splice(0)) await close();
    await drop();
  });

  it('makes instance B refuse after a withdrawal in instance A, through the notification, not the lifetime', async () => {
    const a = await instance();
    const b = await instance();
    await a.record('ann', { analytics: 'granted' });
    // Let the grant's own notification arrive first; then B caches the grant, which only a
    // notification can clear within the long lifetime.
    await eventually(async () => b.engine.notifications === 1);
    expect(await b.isAllowed('ann', 'analytics')).to.equal(true);
    const before = b.engine.notifications;
    await a.record('ann', { analytics: 'denied' });
    await eventually(async () => !(await b.isAllowed('ann', 'analytics')));
    expect(b.engine.notifications).to.be.greaterThan(before);
  });

  it('keeps serving from the cache what changed without a notification (the lifetime is only the fallback)', async () => {
    const a = await instance();
    const b = await instance();
    await a.record('bo', { analytics: 'granted' });
    // Let the grant's own notification arrive first, so that it cannot clear what B caches next.
    await eventually(async () => b.engine.notifications === 1);
    expect(await b.isAllowed('bo', 'analytics')).to.equal(true);
    // A change behind the library's back sends no notification: B keeps its cached state.
    const knex = (a.engine.configuredTracker as unknown as { knex: import('knex').Knex }).knex;
    const records = await allStoredRecords(knex);
    expect(records.map((r) => r.requirement)).to.deep.equal(['analytics']);
    for (const r of records) await changeRecord(knex, Buffer.from(r.chain, 'hex'), r.requirement, { decision: 'denied' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await b.isAllowed('bo', 'analytics')).to.equal(true);
  });

  it('announces only pseudonyms, for record() and import()', async () => {
    const a = await instance();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const payloads: string[] = [];
    client.on('notification', (message) => payloads.push(message.payload ?? ''));
    await client.query('LISTEN consent_changes');
    try {
      await a.record('cleo@example.com', { analytics: 'granted' });
      await a.import([{ subjectId: 'dan@example.com', requirement: 'analytics', decision: 'granted', at: new Date() }]);
      await eventually(async () => payloads.length >= 2);
      expect(payloads).to.deep.equal([a.engine.pseudonym('cleo@example.com'), a.engine.pseudonym('dan@example.com')]);
      expect(payloads.join(' ')).not.to.include('example.com');
    } finally {
      await client.end();
    }
  });

  it('reconnects a dropped listening connection and forgets the cache meanwhile', async () => {
    const a = await instance();
    const logger = feedLogger();
    const b = await instance({ logger });
    await a.record('eve', { analytics: 'granted' });
    await eventually(async () => b.isAllowed('eve', 'analytics'));
    const [first] = await listenerBackends();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE $1', ['LISTEN %']);
    await admin.end();
    await eventually(async () => {
      const pids = await listenerBackends();
      return pids.length === 2 && !pids.includes(first as number);
    });
    const before = b.engine.notifications;
    await a.record('eve', { analytics: 'denied' });
    await eventually(async () => !(await b.isAllowed('eve', 'analytics')));
    // The reconnect emptied b's cache, so b may read the withdrawal before its notice arrives;
    // the notice must still come over the new connection.
    await eventually(async () => b.engine.notifications > before);
    expect(b.engine.notifications).to.be.greaterThan(before);
    expect(logger.reports()).to.deep.equal(['broke', 'back']);
  });

  it('falls back to ttlMs while the listener cannot reconnect, says so once, and recovers', async function () {
    this.timeout(60_000);
    const target = new URL(url);
    const proxy = await faultProxy(target.hostname, Number(target.port));
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    const quiet = { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined };
    const knex = knexFactory({ ...pgKnexConfig(proxied.toString()), log: quiet });
    try {
      const a = await instance();
      const logger = feedLogger();
      const b = await instance({ knex, logger, cache: { max: 100, ttlMs: 2_500 }, storeTimeoutMs: 500 });
      const { app } = guardApp(b);
      const as = { 'x-test-user': 'fay' };
      await a.record('fay', { analytics: 'granted' });
      await eventually(async () => (await request(app).get('/track').set(as)).status === 200);
      proxy.cut();
      await eventually(async () => logger.reports().length > 0);
      // No feed: the cached grant is served until ttlMs after it was read, then the guard must
      // read, cannot, and fails closed.
      await eventually(async () => (await request(app).get('/track').set(as)).status === 503);
      // Several reconnection attempts fail meanwhile (100 ms, then 200, 400, 800 …).
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(logger.reports()).to.deep.equal(['broke']);
      proxy.restore();
      await eventually(async () => logger.reports().length === 2);
      expect(logger.reports()).to.deep.equal(['broke', 'back']);
      await request(app).get('/track').set(as).expect(200);
      await a.record('fay', { analytics: 'denied' });
      await eventually(async () => (await request(app).get('/track').set(as)).status === 403);
    } finally {
      for (const close of opened.splice(0)) await close();
      await knex.destroy();
      await proxy.close();
    }
  });

  it('listens on one connection for all the instances on one Knex (tenants by table prefix), each hearing its own writes', async function () {
    this.timeout(60_000);
    const shared = knexFactory(pgKnexConfig(url));
    const writerKnex = knexFactory(pgKnexConfig(url));
    try {
      const tenants: Consent[] = [];
      for (let i = 0; i < 8; i += 1) tenants.push(await instance({ knex: shared, tablePrefix: `t${String(i)}_` }));
      const writer = await instance({ knex: writerKnex, tablePrefix: 't3_', cache: false });
      // The eight tenants' connection (the writer caches nothing, so it does not listen).
      await eventually(async () => (await feedBackends()) === 1);
      const three = tenants[3] as Consent;
      const five = tenants[5] as Consent;
      await writer.record('gil', { analytics: 'granted' });
      await eventually(async () => three.engine.notifications >= 1);
      expect(await three.isAllowed('gil', 'analytics')).to.equal(true);
      const heard = three.engine.notifications;
      await writer.record('gil', { analytics: 'denied' });
      await eventually(async () => !(await three.isAllowed('gil', 'analytics')));
      expect(three.engine.notifications).to.be.greaterThan(heard);
      expect(five.engine.notifications).to.equal(0, 'another tenant hears nothing of it');
      // The others closing leaves tenant 3 listening; the last one closing ends the connection.
      for (const [i, tenant] of tenants.entries()) if (i !== 3) await tenant.close();
      await writer.record('gil', { analytics: 'granted' });
      await eventually(async () => three.isAllowed('gil', 'analytics'));
      await three.close();
      await eventually(async () => (await feedBackends()) === 0);
    } finally {
      for (const close of opened.splice(0)) await close();
      await shared.destroy();
      await writerKnex.destroy();
    }
  });

  /** The backends of listening connections (their last query a LISTEN, an UNLISTEN or a heartbeat). */
  async function feedBackends(): Promise<number> {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND " +
          "(query LIKE 'LISTEN %' OR query LIKE 'UNLISTEN %' OR query = 'select 1')",
      );
      return Number(rows[0]?.n);
    } finally {
      await admin.end();
    }
  }

  it('stops listening on close()', async () => {
    const a = await instance();
    await instance();
    await eventually(async () => (await listenerBackends()).length === 2);
    await a.close();
    await eventually(async () => (await listenerBackends()).length === 1);
  });
});
