/**
 * Bytes on disk per event, by table, on SQLite (dbstat: pages of each table and its indexes)
 * and, with `--pg`, PostgreSQL (pg_total_relation_size). Three stores: imported histories of
 * ten decisions per subject (the shape of 1,000,000 events over 100,000 subjects, scaled by
 * `--events`), imported subjects with one decision each, and subjects written one `record()`
 * at a time (one transaction, so one log entry, per event: the log's worst case).
 *
 * `npx tsx bench/storage.ts [--sqlite-only] [--events 100000]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import type { Consent } from '../lib/index';
import { parseArgs } from './lib/args';
import { createPgDatabase } from './lib/pg';
import { benchConsent, openKnex, type Target } from './lib/setup';

const PREFIX = 'consent_';
// What proves the history beyond the events themselves: the log (or, before it, the ledger).
const PROOF_TABLES = new Set(['log', 'log_blocks', 'chains']);

async function tableBytes(knex: Knex, target: Target): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (target.kind === 'sqlite') {
    // Indexes count towards their table (sqlite_master names each index's table).
    const pages: Array<{ name: string; bytes: number }> = await knex.raw('select name, sum(pgsize) as bytes from dbstat group by name');
    const tableOf = new Map((await knex('sqlite_master').select('name', 'tbl_name')).map((r: { name: string; tbl_name: string }) => [r.name, r.tbl_name]));
    for (const { name, bytes } of pages) {
      const table = tableOf.get(name) ?? name;
      if (table.startsWith(PREFIX)) out.set(table.slice(PREFIX.length), (out.get(table.slice(PREFIX.length)) ?? 0) + bytes);
    }
    return out;
  }
  await knex.raw('vacuum analyze');
  const rows: { rows: Array<{ name: string; bytes: string }> } = await knex.raw(
    "select relname as name, pg_total_relation_size(c.oid) as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'",
  );
  for (const { name, bytes } of rows.rows) if (name.startsWith(PREFIX)) out.set(name.slice(PREFIX.length), Number(bytes));
  return out;
}

function* imported(subjects: number, perSubject: number): Generator<{ subjectId: string; requirement: string; decision: 'granted' | 'denied'; at: number }> {
  const at = Date.now() - 86_400_000;
  const requirements = ['analytics', 'ads', 'newsletter', 'partners'];
  for (let s = 0; s < subjects; s += 1) {
    for (let i = 0; i < perSubject; i += 1) {
      yield { subjectId: `subject-${String(s)}`, requirement: requirements[i % 4] as string, decision: i % 3 ? 'granted' : 'denied', at: at + i };
    }
  }
}

async function measure(target: Target, fill: (consent: Consent) => Promise<number>): Promise<{ events: number; bytes: Map<string, number> }> {
  const knex = openKnex(target);
  try {
    const consent = await benchConsent(knex);
    const events = await fill(consent);
    await consent.verify();
    await consent.close();
    if (target.kind === 'sqlite') await knex.raw('pragma wal_checkpoint(TRUNCATE)');
    return { events, bytes: await tableBytes(knex, target) };
  } finally {
    await knex.destroy();
  }
}

function report(label: string, { events, bytes }: { events: number; bytes: Map<string, number> }): void {
  const total = [...bytes.values()].reduce((a, b) => a + b, 0);
  const proof = [...bytes].filter(([t]) => PROOF_TABLES.has(t)).reduce((a, [, b]) => a + b, 0);
  const per = (n: number) => (n / events).toFixed(1);
  const tables = [...bytes].sort((a, b) => b[1] - a[1]).map(([t, b]) => `${t} ${per(b)}`).join(', ');
  console.log(`${label}: ${String(events)} events, ${per(total)} bytes/event in all; log or ledger ${per(proof)} bytes/event (${tables})`);
}

async function main(): Promise<void> {
  const args = parseArgs();
  const events = process.argv.includes('--events') ? args.events : 100_000;
  const stores: Array<[string, (consent: Consent) => Promise<number>]> = [
    ['10 decisions per subject, imported', async (c) => (await c.import(imported(events / 10, 10), { batchSize: 10_000 })).imported],
    ['1 decision per subject, imported', async (c) => (await c.import(imported(events / 10, 1), { batchSize: 10_000 })).imported],
    ['1 decision per subject, one record() each', async (c) => {
      const n = Math.min(5_000, events / 20);
      for (let s = 0; s < n; s += 1) await c.record(`one-${String(s)}`, { analytics: 'granted' });
      return n;
    }],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'ec-storage-'));
  try {
    for (const [i, [label, fill]] of stores.entries()) {
      if (!args.pgOnly) report(`SQLite, ${label}`, await measure({ kind: 'sqlite', filename: join(dir, `s${String(i)}.sqlite3`) }, fill));
      if (args.pg) {
        const db = await createPgDatabase(args.pg);
        try {
          report(`PostgreSQL, ${label}`, await measure({ kind: 'pg', url: db.url }, fill));
        } finally {
          await db.drop();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${String(process.argv[1])}`) await main();
