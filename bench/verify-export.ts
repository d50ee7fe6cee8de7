/**
 * Verify and export at scale: `npx tsx bench/verify-export.ts [events]` (default 100000).
 *
 * Fills a fresh SQLite file through the tracker in batches (90% of the events spread over
 * subjects of 100 events each, 10% on one heavy subject), then measures `verify()` over the
 * whole store, `verify({ subjectId })` and `export()` of the heavy subject: wall time,
 * events per second, and the peak RSS and heap above the level before each run (sampled
 * every 5 ms). With CONSENT_TEST_PG_URL set it runs on PostgreSQL instead, in a database of its
 * own that it creates on that server and drops afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent } from '../lib/index';
import { newPersonalSalt } from '../lib/audit/chain';
import { planBatch, type PlannedDecision } from '../lib/state/plan';

const total = Number(process.argv[2] ?? 100_000);
const PER_SUBJECT = 100;
const REQUIREMENTS = Array.from({ length: 10 }, (_, i) => `req-${String(i)}`);

async function fill(consent: Consent, subject: string, count: number): Promise<void> {
  const { engine } = consent;
  const pseudonym = engine.pseudonym(subject);
  for (let done = 0; done < count; done += 1000) {
    const decisions: PlannedDecision[] = Array.from({ length: Math.min(1000, count - done) }, (_, i) => ({
      requirement: engine.registry.require(REQUIREMENTS[i % REQUIREMENTS.length] as string),
      decision: (i + done) % 3 === 0 ? 'denied' : 'granted',
    }));
    const personal = { actor: null, note: `batch ${String(done)}`, data: '{"bench":true}', ip: null, userAgent: null };
    const ctx = { now: Date.now(), source: 'import' as const, ...personal, personalSalt: newPersonalSalt(personal), gpc: false };
    await engine.tracker.write(pseudonym, (snapshot) => ({ plan: planBatch(snapshot, decisions, ctx, engine.derivedKeys.chain).plan, result: null }));
  }
}

async function measure<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number; rssMb: number; heapMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss);
    heap = Math.max(heap, now.heapUsed);
  }, 5);
  const started = process.hrtime.bigint();
  const value = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(timer);
  const end = process.memoryUsage();
  rss = Math.max(rss, end.rss);
  heap = Math.max(heap, end.heapUsed);
  return { value, seconds, rssMb: (rss - base.rss) / 2 ** 20, heapMb: (heap - base.heapUsed) / 2 ** 20 };
}

/** A throwaway PostgreSQL database on the server of `base`, and a function dropping it. */
async function pgDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `consent_bench_${String(process.pid)}`;
  const admin = () => knexFactory({ client: 'pg', connection: base, pool: { min: 0, max: 1 } });
  const creator = admin();
  try {
    await creator.raw(`create database ${name}`);
  } finally {
    await creator.destroy();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = admin();
      try {
        await dropper.raw(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.destroy();
      }
    },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'consent-bench-'));
  const pgBase = process.env.CONSENT_TEST_PG_URL;
  const pg = pgBase ? await pgDatabase(pgBase) : null;
  const knex: Knex = knexFactory(pg
    ? { client: 'pg', connection: pg.url, pool: { min: 0, max: 4 } }
    : { client: 'sqlite3', connection: { filename: join(dir, 'bench.sqlite3') }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
  const consent = createConsent({ knex, secret: 'bench-secret-0123456789abcdef0123456789', cache: false, logger: { warn() {}, error() {} } });
  consent.register(REQUIREMENTS.map((id) => ({ id, title: id, description: `Requirement ${id}` })));
  await consent.ready();
  const heavy = Math.round(total / 10);
  const fillStarted = Date.now();
  await fill(consent, 'heavy', heavy);
  for (let n = 0, left = total - heavy; left > 0; n += 1, left -= PER_SUBJECT) await fill(consent, `s-${String(n)}`, Math.min(PER_SUBJECT, left));
  console.log(`${pg ? 'PostgreSQL' : 'SQLite file'}: inserted ${String(total)} events in ${((Date.now() - fillStarted) / 1000).toFixed(1)} s; Node ${process.version}\n`);

  const rows: string[][] = [];
  const add = (what: string, events: number, r: { seconds: number; rssMb: number; heapMb: number }) =>
    rows.push([what, String(events), r.seconds.toFixed(2), String(Math.round(events / r.seconds)), r.rssMb.toFixed(1), r.heapMb.toFixed(1)]);
  const all = await measure(() => consent.verify());
  if (!all.value.ok) throw new Error(`verify found problems: ${JSON.stringify(all.value.problems.slice(0, 5))}`);
  add('verify()', all.value.checked, all);
  const one = await measure(() => consent.verify({ subjectId: 'heavy' }));
  add('verify({ subjectId })', one.value.checked, one);
  const exported = await measure(async () => JSON.stringify(await consent.export('heavy')).length);
  add('export() + JSON.stringify', heavy, exported);

  const header = ['operation', 'events', 'seconds', 'events/s', 'peak RSS +MB', 'peak heap +MB'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log([line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
  await consent.close();
  await knex.destroy();
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
