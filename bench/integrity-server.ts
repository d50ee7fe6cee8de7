/**
 * The server side of `bench/integrity-cost.ts`: the router of the library at BENCH_LIB (a
 * directory holding its `lib/`: this tree or an earlier commit's) on BENCH_TARGET (JSON
 * `Target`), mounted at /consent, with the bench requirements; the subject is the `x-user`
 * header; with BENCH_DURABLE=1, a durable `change` handler that does nothing. Prints `PORT <n>`
 * once it listens.
 */
import { join } from 'node:path';
import express from 'express';
import { BENCH_SECRET, headerSubject, openKnex, REQUIREMENTS, type Target } from './lib/setup';

interface Library {
  createConsent(options: Record<string, unknown>): {
    register(defs: unknown): void;
    on(event: 'change', handler: () => void, options: { name: string }): void;
    ready(): Promise<void>;
    router(): express.RequestHandler;
    close(): Promise<void>;
  };
}

const lib = (await import(join(process.env.BENCH_LIB as string, 'lib/index.ts'))) as Library;
const knex = openKnex(JSON.parse(process.env.BENCH_TARGET as string) as Target);
const consent = lib.createConsent({ knex, secret: BENCH_SECRET, subject: headerSubject, logger: { warn() {}, error: console.error } });
consent.register(REQUIREMENTS);
// BENCH_DURABLE=1: a durable handler (an outbox entry per change, delivered by this process).
if (process.env.BENCH_DURABLE === '1') consent.on('change', () => undefined, { name: 'bench' });
await consent.ready();

const app = express();
app.use('/consent', consent.router());
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`PORT ${String(typeof address === 'object' && address !== null ? address.port : 0)}`);
});
process.on('SIGTERM', () => {
  server.close();
  void consent.close().then(() => knex.destroy()).then(() => process.exit(0));
});
