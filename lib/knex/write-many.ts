import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { GENESIS } from '../audit/chain';
import type { BatchPlanner, SubjectSnapshot } from '../tracker/records';
import { fromEvent, fromRecord, toRecord, type Row } from './rows';

// 2,000 rows of the widest table (15 columns) stay below SQLite's 32,766 bound variables.
const ROWS_PER_INSERT = 2000;
const IDS_PER_SELECT = 1000;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * One multi-row `INSERT … VALUES (…), (…)` (valid on SQLite and PostgreSQL), with an optional
 * conflict clause. Knex writes multi-row inserts on SQLite as a compound SELECT, which is
 * slow to parse and limited to 500 rows.
 */
async function insertValues(trx: Knex.Transaction, table: string, rows: Row[], conflict = ''): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as Row);
  const tuple = `(${columns.map(() => '?').join(',')})`;
  const bindings: unknown[] = [];
  for (const row of rows) for (const column of columns) bindings.push(row[column] ?? null);
  const sql = `insert into ${quote(table)} (${columns.map(quote).join(',')}) values ${rows.map(() => tuple).join(',')} ${conflict}`;
  await trx.raw(sql, bindings as Knex.RawBinding[]);
}

const excluded = (columns: string[]) => columns.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(', ');
const STATE_COLUMNS = ['decision', 'version', 'decided_at', 'expires_at', 'gpc_opt_in', 'pending_version', 'pending_at', 'pending_expires_at', 'pending_token'];

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * `KnexTracker.writeMany`: one transaction for many subjects. Subjects are locked in
 * pseudonym order, so two concurrent imports on PostgreSQL cannot deadlock each other, and
 * heads move with one upsert per chunk instead of one update per subject. On PostgreSQL every
 * written pseudonym is announced on `notifyChannel` when the transaction commits.
 */
export async function writeMany(
  knex: Knex,
  table: (name: string) => string,
  pseudonyms: string[],
  plan: BatchPlanner,
  notifyChannel: string | null = null,
): Promise<void> {
  const sorted = [...new Set(pseudonyms)].sort();
  const subjects = table('subjects');
  await knex.transaction(async (trx) => {
    const createdAt = Date.now();
    for (const part of chunks(sorted, ROWS_PER_INSERT)) {
      const fresh = part.map((pseudonym) => ({
        chain: randomBytes(16).toString('hex'),
        pseudonym,
        seq: 0,
        head_hash: GENESIS,
        head_mac: '',
        created_at: createdAt,
      }));
      await insertValues(trx, subjects, fresh, 'on conflict (pseudonym) do nothing');
    }
    const heads: Row[] = [];
    for (const part of chunks(sorted, IDS_PER_SELECT)) {
      heads.push(...(await trx(subjects).whereIn('pseudonym', part).orderBy('pseudonym').forUpdate()));
    }
    const records = new Map<string, SubjectSnapshot['records']>();
    for (const part of chunks(heads.map((h) => h.chain as string), IDS_PER_SELECT)) {
      const rows: Row[] = await trx(table('states')).whereIn('chain', part);
      for (const row of rows) {
        const list = records.get(row.chain as string) ?? [];
        list.push(toRecord(row));
        records.set(row.chain as string, list);
      }
    }
    const snapshots = new Map<string, SubjectSnapshot>();
    for (const head of heads) {
      const chain = head.chain as string;
      snapshots.set(head.pseudonym as string, { chain, seq: Number(head.seq), hash: head.head_hash as string, records: records.get(chain) ?? [] });
    }
    const plans = plan(snapshots);
    const events: Row[] = [];
    const states: Row[] = [];
    const moved: Row[] = [];
    for (const head of heads) {
      const planned = plans.get(head.pseudonym as string);
      if (!planned) continue;
      const chain = head.chain as string;
      for (const event of planned.events) events.push(fromEvent(event));
      for (const record of planned.records) states.push(fromRecord(chain, record));
      const { seq, hash, mac } = planned.head;
      moved.push({ ...head, seq, head_hash: hash, head_mac: mac });
    }
    for (const part of chunks(events, ROWS_PER_INSERT)) await insertValues(trx, table('events'), part);
    for (const part of chunks(states, ROWS_PER_INSERT)) {
      await insertValues(trx, table('states'), part, `on conflict (chain, requirement) do update set ${excluded(STATE_COLUMNS)}`);
    }
    for (const part of chunks(moved, ROWS_PER_INSERT)) {
      await insertValues(trx, subjects, part, `on conflict (chain) do update set ${excluded(['seq', 'head_hash', 'head_mac'])}`);
    }
    if (notifyChannel !== null && moved.length > 0) {
      const written = moved.map((row) => row.pseudonym as string);
      await trx.raw('select pg_notify(?, p) from unnest(?::text[]) as p', [notifyChannel, written]);
    }
  });
}
