/**
 * c15t 2.2.1 for `bench/vs-c15t/main.ts`, in a child process, as its documentation sets it
 * up: `c15tInstance` with the kysely adapter on better-sqlite3 (WAL mode), its fetch handler
 * behind Node's HTTP server. The packages come from the directory VS_C15T_PREFIX (installed
 * there by main.ts, never a dependency of this package); better-sqlite3 is this repository's.
 *
 * VS_DB is the SQLite file. With VS_SEED=n it migrates, records one subject through the API
 * (which creates the domain, policy and purposes), adds n subjects with one consent record of
 * three granted purposes each in the rows that same call writes, checkpoints and exits.
 * With VS_INDEX_ONLY=1 it adds the index c15t lacks (consent records by subject) and exits.
 * Otherwise it serves `/api/c15t` and `GET /__bench/memory` and prints `PORT <n>`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { memoryReport } from './memory';
import { c15tRecordBody, c15tSeeded } from './workloads';

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-explicit-any, @typescript-eslint/restrict-template-expressions -- c15t is loaded at run time from a directory outside the repository, without types */

/** The slice of better-sqlite3 used here (it ships no types, and none are installed). */
interface Statement { run(...values: unknown[]): unknown; get(): unknown }
interface SqliteDatabase {
  pragma(sql: string): unknown;
  prepare(sql: string): Statement;
  exec(sql: string): void;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (filename: string) => SqliteDatabase;

const prefix = process.env.VS_C15T_PREFIX as string;
const fromPrefix = createRequire(join(prefix, 'package.json'));
const load = (name: string): Promise<any> => import(pathToFileURL(fromPrefix.resolve(name)).href);

const { c15tInstance } = await load('@c15t/backend');
const { kyselyAdapter } = await load('@c15t/backend/db/adapters/kysely');
const { DB } = await load('@c15t/backend/db/schema');
const { migrator } = await load('@c15t/backend/db/migrator');
const { Kysely, SqliteDialect } = await load('kysely');

const sqlite = new Database(process.env.VS_DB as string);
sqlite.pragma('journal_mode = WAL');
const db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
const adapter = kyselyAdapter({ db, provider: 'sqlite' });
const c15t = c15tInstance({ appName: 'bench', basePath: '/api/c15t', trustedOrigins: ['http://127.0.0.1'], adapter, logger: { level: 'error' } });

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const newId = (kind: string): string => `${kind}_${Array.from(randomBytes(26), (b) => ALPHABET[b % 58]).join('')}`;

async function seed(subjects: number): Promise<void> {
  const migration = await migrator({ db: DB.client(adapter), schema: 'latest' });
  await migration.execute();
  // The API's first record creates the domain, the policy and the purposes (not a seeded subject).
  const first = await c15t.handler(new Request('http://127.0.0.1/api/c15t/subjects', { method: 'POST', headers: { 'content-type': 'application/json' }, body: c15tRecordBody('sub_Seed') }));
  if (first.status !== 200) throw new Error(`c15t refused the first record: ${String(first.status)} ${await first.text()}`);
  // Copies of the rows that call wrote, for every other subject.
  const template = sqlite.prepare('select * from consent limit 1').get() as Record<string, unknown>;
  const subjectRow = sqlite.prepare('select * from subject limit 1').get() as Record<string, unknown>;
  const insertSubject = sqlite.prepare('insert into subject (id, externalId, identityProvider, createdAt, updatedAt, tenantId) values (?, null, ?, ?, ?, null)');
  const columns = Object.keys(template);
  const insertConsent = sqlite.prepare(`insert into consent (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  const write = sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i += 1) {
      const id = c15tSeeded(i);
      const at = Date.now();
      insertSubject.run(id, subjectRow.identityProvider, at, at);
      insertConsent.run(...columns.map((c) => (c === 'id' ? newId('cns') : c === 'subjectId' ? id : c === 'givenAt' ? at : template[c])));
    }
  });
  for (let i = 0; i < subjects; i += 10_000) write(i, Math.min(subjects, i + 10_000));
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
}

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url === '/__bench/memory') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(memoryReport()));
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
  const headers = Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : []));
  const response: Response = await c15t.handler(new Request(`http://127.0.0.1${req.url ?? '/'}`, { method: req.method, headers, body }));
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

if (process.env.VS_SEED) {
  await seed(Number(process.env.VS_SEED));
  sqlite.close();
  process.exit(0);
}
if (process.env.VS_INDEX_ONLY) {
  sqlite.exec('create index consent_subject_idx on consent ("subjectId")');
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  process.exit(0);
}
const server = createServer((req, res) => {
  serve(req, res).catch(() => {
    res.statusCode = 500;
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`PORT ${String(typeof address === 'object' && address ? address.port : 0)}`);
});
process.on('SIGTERM', () => process.exit(0));
