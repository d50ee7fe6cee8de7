import knexFactory, { type Knex } from 'knex';
import type { Express } from 'express';
import { testConsent } from '../helpers/consent-setup';
import { createPgDatabase, pgKnexConfig } from '../helpers/databases';
import { faultProxy, type FaultProxy } from '../helpers/faults';
import { guardApp } from '../helpers/guard-app';

// Knex warns about every failed connection attempt; the outages here are on purpose.
const noop = (): void => undefined;
const QUIET = { warn: noop, error: noop, deprecate: noop, debug: noop };

/** Time-to-live of the state cache in the fault tests (on a clock the test moves by hand). */
export const TTL_MS = 5_000;

/**
 * A consent app on a fresh PostgreSQL database reached only through a {@link FaultProxy}, on a
 * clock the test controls. `direct` is a Knex that bypasses the proxy, to look at the truth.
 */
export interface FaultRig {
  app: Express;
  calls: Record<string, number>;
  proxy: FaultProxy;
  direct: Knex;
  consent: Awaited<ReturnType<typeof testConsent>>['consent'];
  clock: { ms: number };
  close(): Promise<void>;
}

export async function faultRig(options: { poolMax?: number; storeTimeoutMs?: number } = {}): Promise<FaultRig> {
  const db = await createPgDatabase();
  const target = new URL(db.url);
  const proxy = await faultProxy(target.hostname, Number(target.port));
  const proxied = new URL(db.url);
  proxied.port = String(proxy.port);
  const base = pgKnexConfig(proxied.toString());
  const knex = knexFactory({ ...base, pool: { min: 0, max: options.poolMax ?? 4 }, acquireConnectionTimeout: 10_000, log: QUIET });
  const direct = knexFactory(pgKnexConfig(db.url));
  const clock = { ms: Date.parse('2030-01-01T00:00:00.000Z') };
  const t = await testConsent({ config: base, cleanup: async () => undefined }, {
    knex,
    storeTimeoutMs: options.storeTimeoutMs ?? 500,
    cache: { max: 1000, ttlMs: TTL_MS },
    now: () => new Date(clock.ms),
  });
  const { app, calls } = guardApp(t.consent);
  return {
    app,
    calls,
    proxy,
    direct,
    consent: t.consent,
    clock,
    async close() {
      // A frozen connection lost bytes for good: drop every connection through the proxy, so
      // that no query waits for an answer that will never come while the pools close.
      proxy.cut();
      proxy.restore();
      proxy.delay(0);
      await t.consent.close();
      await knex.destroy();
      await t.knex.destroy();
      await direct.destroy();
      await proxy.close();
      await db.drop();
    },
  };
}
