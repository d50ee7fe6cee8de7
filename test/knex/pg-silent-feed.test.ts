import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import type { Consent } from '../../lib/index';
import { memoryLogger, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { guardApp } from '../helpers/guard-app';

const TTL_MS = 2_500;

/**
 * A Knex instance whose every connection answers queries but hands no notification to the
 * application: what a pooler in transaction mode (PgBouncer's pool_mode = transaction) does to
 * a LISTENing session, whose notifications reach the pooler while no client is linked to it.
 */
function deafKnex(url: string): Knex {
  const knex = knexFactory(pgKnexConfig(url));
  const client = knex.client as { acquireRawConnection(): Promise<{ emit(event: string, ...args: unknown[]): boolean }> };
  const acquire = client.acquireRawConnection.bind(client);
  client.acquireRawConnection = async () => {
    const connection = await acquire();
    const emit = connection.emit.bind(connection);
    connection.emit = (event, ...args) => (event === 'notification' ? false : emit(event, ...args));
    return connection;
  };
  return knex;
}

describePg('a change feed that answers queries but delivers no notification (PostgreSQL)', function (this: Mocha.Suite) {
  this.timeout(30_000);
  let url: string;
  let drop: () => Promise<void>;
  const closing: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    ({ url, drop } = await createPgDatabase());
  });
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
    await drop();
  });

  async function instance(options: Parameters<typeof testConsent>[1]): Promise<Consent> {
    const db: TestDatabase = { config: pgKnexConfig(url), cleanup: async () => undefined };
    const { consent, close } = await testConsent(db, { cache: { max: 100, ttlMs: TTL_MS }, logger: memoryLogger(), ...options });
    closing.push(close);
    return consent;
  }

  it('is found out: says once what is wrong, and another process\'s withdrawal is enforced within cache.ttlMs', async () => {
    const a = await instance({});
    const knex = deafKnex(url);
    closing.push(() => knex.destroy());
    const logger = memoryLogger();
    const b = await instance({ knex, logger });
    const { app } = guardApp(b);
    const as = { 'x-test-user': 'gus' };
    await a.record('gus', { analytics: 'granted' });
    await request(app).get('/track').set(as).expect(200);
    await a.record('gus', { analytics: 'denied' });
    // Heartbeats keep being answered meanwhile; they must not keep the withdrawn grant alive.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 1_500));
    await request(app).get('/track').set(as).expect(403);
    expect(b.engine.notifications).to.equal(0);
    const said = (logger.errors as Array<{ message: string; error: unknown }>).map((e) => `${e.message} ${(e.error as Error).message}`);
    expect(said).to.have.length(1);
    expect(said[0]).to.match(/change feed broke/).and.match(/transaction mode/);
  });
});
