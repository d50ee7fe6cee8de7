/**
 * express-consent for `bench/vs-c15t/main.ts`, in a child process: the embedded default's
 * settings on the SQLite file VS_DB through VS_DRIVER (`sqlite3` or `better-sqlite3`). With
 * VS_SEED=n it imports n subjects with three grants each, checkpoints the WAL and exits;
 * otherwise it serves `/consent` and `GET /__bench/memory`, and prints `PORT <n>`.
 * VS_PRAGMAS (a JSON list) replaces the default pragmas, VS_CACHE=off disables the state cache:
 * the memory breakdown compares those.
 */
import express from 'express';
import knexFactory, { type Knex } from 'knex';
import { DEFAULT_PRAGMAS, sqlitePragmaHook } from '../../lib/knex/default-knex';
import { benchConsent, REQUIREMENTS } from '../lib/setup';
import { memoryReport } from './memory';

/** The three requirements a write decides (the "write a new subject (3 decisions)"). */
export const DECIDED = REQUIREMENTS.slice(0, 3).map((r) => r.id);

const file = process.env.VS_DB as string;
const driver = process.env.VS_DRIVER === 'better-sqlite3' ? 'better-sqlite3' : 'sqlite3';
const pragmas = process.env.VS_PRAGMAS ? (JSON.parse(process.env.VS_PRAGMAS) as string[]) : DEFAULT_PRAGMAS;

const knex: Knex = knexFactory({
  client: driver,
  connection: { filename: file },
  useNullAsDefault: true,
  pool: { min: 1, max: 1, afterCreate: sqlitePragmaHook(driver, pragmas) },
});
const consent = await benchConsent(knex, process.env.VS_CACHE === 'off' ? { cache: false } : {});

if (process.env.VS_SEED) {
  const subjects = Number(process.env.VS_SEED);
  const at = Date.now() - 60_000;
  function* decisions(): Generator<Record<string, unknown>> {
    for (let i = 0; i < subjects; i += 1) {
      for (const requirement of DECIDED) yield { subjectId: `u${String(i)}`, requirement, decision: 'granted', at };
    }
  }
  await consent.import(decisions(), { batchSize: 10_000 });
  await knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await consent.close();
  await knex.destroy();
  process.exit(0);
}

const app = express();
app.get('/__bench/memory', (_req, res) => { res.json(memoryReport()); });
app.use('/consent', consent.router());
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`PORT ${String(typeof address === 'object' && address ? address.port : 0)}`);
});
process.on('SIGTERM', () => process.exit(0));
