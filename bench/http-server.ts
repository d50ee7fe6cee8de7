/**
 * The server side of `bench/http.ts`, run as a child process so that the load generator does
 * not compete with it for the same event loop. Configured by BENCH_TARGET (JSON `Target`) and
 * BENCH_SUBJECTS; prints `PORT <n>` once it is ready.
 */
import express, { type Request, type Response } from 'express';
import { benchConsent, grants, headerSubject, openKnex, type Target } from './lib/setup';

const target = JSON.parse(process.env.BENCH_TARGET as string) as Target;
const subjects = Number(process.env.BENCH_SUBJECTS ?? 1000);

const knex = openKnex(target);
// Three instances on the same database and secret. `warm`: entries outlive the run, so every
// guarded request is a cache hit (the guard's own cost). `standard`: the default options (5 s
// lifetime, the store's change feed keeping entries current). `cold`: no cache. Writes go
// through `warm`'s router; the other instances hear of them through the change feed.
const warm = await benchConsent(knex, { cache: { max: 10_000, ttlMs: 3_600_000 } });
const standard = await benchConsent(knex);
const cold = await benchConsent(knex, { cache: false });
// Visitors (no x-user header): identified by their signed cookie, a warm cache as above.
const visitors = await benchConsent(knex, { cache: { max: 10_000, ttlMs: 3_600_000 }, visitors: {} });
await warm.import(grants(subjects));
await knex.schema.dropTableIfExists('bench_writes');
await knex.schema.createTable('bench_writes', (table) => {
  table.bigIncrements('id').primary();
  table.string('subject', 256).notNullable();
  table.string('requirement', 64).notNullable();
  table.string('decision', 8).notNullable();
  table.bigInteger('at').notNullable();
});

// State reads `standard` asks of the store (misses and background re-reads), for the bench to
// divide by the requests it served.
let standardReads = 0;
const timed = standard.engine.tracker;
const current = timed.current.bind(timed);
timed.current = (pseudonym) => {
  standardReads += 1;
  return current(pseudonym);
};

const ok = (_req: Request, res: Response) => {
  res.json({ ok: true });
};
const app = express();
app.use('/consent', warm.router());
app.use('/visitors', visitors.router());
// The baseline of the guard: the same subject resolution, no consent check.
app.get('/bare', (req, res) => {
  if (!headerSubject(req)) return void res.status(401).end();
  ok(req, res);
});
app.get('/guarded', warm.requireConsent('analytics'), ok);
app.get('/guarded-default', standard.requireConsent('analytics'), ok);
app.get('/guarded-nocache', cold.requireConsent('analytics'), ok);
app.get('/bench/reads', (_req, res) => { res.json({ reads: standardReads }); });
// The baseline of the visitor guard: a route that reads the same cookie, no consent check.
app.get('/bare-visitor', (req, res) => {
  const cookie = req.headers.cookie ?? '';
  const at = cookie.indexOf('consent_visitor=');
  const end = cookie.indexOf(';', at);
  const value = at < 0 ? '' : cookie.slice(at + 16, end < 0 ? undefined : end);
  if (!value.includes('.')) return void res.status(401).end();
  ok(req, res);
});
app.get('/guarded-visitor', visitors.requireConsent('analytics'), ok);
// The baseline of PUT /me/:id: parse the same JSON, insert one row in a transaction.
app.put('/bare-put/:id', express.json({ limit: '16kb' }), async (req, res) => {
  const subject = headerSubject(req);
  const body = req.body as { decision?: unknown };
  if (!subject || (body.decision !== 'granted' && body.decision !== 'denied')) return void res.status(400).end();
  try {
    const row = { subject, requirement: req.params.id, decision: body.decision, at: Date.now() };
    await knex.transaction((trx) => trx('bench_writes').insert(row));
    res.json(row);
  } catch {
    res.status(503).end();
  }
});

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`PORT ${String(typeof address === 'object' && address ? address.port : 0)}`);
});
// The parent stops the server between benches; in-flight requests do not matter then.
process.on('SIGTERM', () => process.exit(0));
