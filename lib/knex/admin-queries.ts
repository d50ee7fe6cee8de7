import type { Knex } from 'knex';
import type { AuditEvent, AuditQuery, DailyCount, StateGroup, StoreStats } from '../tracker/admin-records';
import type { StoredRequirementVersion } from '../tracker/records';
import type { Action } from '../types';
import type { TableContext } from './chain-store';
import { COMMON_ACTIONS } from './migrations/010-lean-rows';
import { recordsOrUnreadable } from '../tracker/stored-records';
import { StateGroups } from '../tracker/state-groups';
import { byFirstValue, readRows } from './json-page';
import { bytes, hexOrNull } from './row-codec';
import { pageColumns, toEvent, toVersion, type Row } from './rows';

const int = (value: unknown): number => Number(value);

/**
 * A keyset page of events across subjects: one indexed range read on the event id, joined to
 * the subject row for the pseudonym, so a page costs the same at any depth.
 */
export async function auditEvents(ctx: TableContext, query: AuditQuery): Promise<AuditEvent[]> {
  const direction = query.order === 'newest' ? 'desc' : 'asc';
  const q = ctx.knex(`${ctx.table('events')} as e`)
    .leftJoin(`${ctx.table('subjects')} as s`, 's.chain', 'e.chain')
    .select('e.*', 's.pseudonym as subject_pseudonym')
    .orderBy('e.id', direction)
    .limit(query.limit);
  if (query.requirement !== undefined) q.where('e.requirement', query.requirement);
  if (query.action !== undefined) whereAction(q, query.action);
  if (query.source !== undefined) q.where('e.source', query.source);
  if (query.context !== undefined) q.where('e.context', query.context);
  if (query.actor !== undefined) q.where('e.actor', query.actor);
  if (query.from !== undefined) q.where('e.at', '>=', query.from);
  if (query.to !== undefined) q.where('e.at', '<', query.to);
  if (query.cursor !== undefined) q.where('e.id', direction === 'desc' ? '<' : '>', query.cursor);
  const rows = (await q) as Row[];
  return rows.map((row) => ({ ...toEvent(row), subject: hexOrNull(row.subject_pseudonym) }));
}

const common = new Set<string>(COMMON_ACTIONS);

/**
 * The filter on one action. The `(action, id)` index holds only the rarer actions: a query for
 * one of them repeats the index's condition word for word, which is how SQLite's planner knows
 * the index holds every row asked for. Grants and denials are read through the primary key.
 */
function whereAction(q: Knex.QueryBuilder, action: Action): void {
  q.where('e.action', action);
  if (!common.has(action)) q.whereRaw(`?? not in (${COMMON_ACTIONS.map((a) => `'${a}'`).join(', ')})`, ['e.action']);
}

// Subject rows read per page while counting records.
const STATS_PAGE = 5000;

/**
 * The records of every subject counted by group, read page by page in chain order (each
 * subject row holds its records, which only the library decodes; records that do not decode are
 * left out, `verify()` reports them). A page is one JSON text where the database can build one:
 * an object and a buffer per row took most of the time.
 */
async function recordGroups(ctx: TableContext, now: number): Promise<StateGroup[]> {
  const groups = new StateGroups(now);
  const columns = pageColumns(ctx.knex, ['chain', 'records']);
  // Qualified: the page's own `chain` is the key's hex, which has no index to read in order.
  const chain = `${ctx.table('subjects')}.chain`;
  let after: string | null = null;
  for (;;) {
    const q = ctx.knex(ctx.table('subjects')).whereNotNull('records').orderBy(chain).limit(STATS_PAGE);
    if (after !== null) q.where(chain, '>', bytes(after));
    const rows = await readRows(ctx, q, columns, byFirstValue);
    for (const row of rows) {
      for (const r of recordsOrUnreadable(row.records)) if (r.requirement !== '') groups.add(r);
    }
    if (rows.length < STATS_PAGE) return groups.list();
    after = hexOrNull(rows[rows.length - 1]?.chain);
  }
}

/** Grouped counts: a handful of rows whatever the data volume. */
export async function storeStats(
  ctx: TableContext,
  now: number,
): Promise<StoreStats> {
  const subjects = (await ctx.knex(ctx.table('subjects')).whereNotNull('pseudonym').count({ n: '*' }).first()) as Row | undefined;
  const groups = await recordGroups(ctx, now);
  const actionRows: Row[] = await ctx.knex(ctx.table('events')).select('action').count({ n: '*' }).groupBy('action');
  // The (handler, available_at) index answers it.
  const outboxRows: Row[] = await ctx.knex(ctx.table('outbox')).select('handler').count({ n: '*' }).min({ due: 'available_at' }).groupBy('handler');
  return {
    subjects: int(subjects?.n ?? 0),
    groups,
    actions: Object.fromEntries(actionRows.map((row) => [row.action as string, int(row.n)])),
    outbox: outboxRows.map((row) => ({ handler: row.handler as string, entries: int(row.n), earliestDueAt: int(row.due) })),
  };
}

const DAY_MS = 86_400_000;

/** Events per UTC day and action since `from`: one grouped range read on the `at` column. */
export async function dailyCounts(ctx: TableContext, from: number): Promise<DailyCount[]> {
  // Integer division of BIGINT epoch ms is a whole day number in both SQLite and PostgreSQL;
  // the divisor is inlined (a constant) because PostgreSQL matches GROUP BY expressions by text.
  const rows: Row[] = await ctx.knex(ctx.table('events'))
    .select(ctx.knex.raw(`at / ${String(DAY_MS)} as day`), 'action')
    .count({ n: '*' })
    .where('at', '>=', from)
    .groupByRaw(`at / ${String(DAY_MS)}, action`);
  return rows.map((row) => ({
    day: new Date(Math.floor(Number(row.day)) * DAY_MS).toISOString().slice(0, 10),
    action: row.action as Action,
    count: int(row.n),
  }));
}

/** Every stored requirement version, by id, then oldest first. */
export async function allRequirementVersions(ctx: TableContext): Promise<StoredRequirementVersion[]> {
  const rows = (await ctx.knex(ctx.table('requirements')).orderBy([{ column: 'id' }, { column: 'version' }])) as Row[];
  return rows.map(toVersion);
}

/** A stored setting (the secret is stored under `secret`), or null; never writes. */
export async function readSetting(ctx: TableContext, name: string): Promise<string | null> {
  const row: Row | undefined = await ctx.knex(ctx.table('meta')).where({ key: name }).first('value');
  return typeof row?.value === 'string' ? row.value : null;
}

/** Stores `candidate` under `name` unless a value is stored already; resolves to the stored one. */
export async function storeSetting(ctx: TableContext, name: string, candidate: string): Promise<string> {
  const meta = ctx.table('meta');
  await ctx.knex(meta).insert({ key: name, value: candidate }).onConflict('key').ignore();
  const row: Row | undefined = await ctx.knex(meta).where({ key: name }).first('value');
  return row?.value as string;
}
