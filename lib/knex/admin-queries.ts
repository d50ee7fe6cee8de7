import type { AuditEvent, AuditQuery, StateGroup } from '../tracker/admin-records';
import type { TableContext } from './chain-store';
import { rawRows, toEvent, type Row } from './rows';

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
  if (query.action !== undefined) q.where('e.action', query.action);
  if (query.from !== undefined) q.where('e.at', '>=', query.from);
  if (query.to !== undefined) q.where('e.at', '<', query.to);
  if (query.cursor !== undefined) q.where('e.id', direction === 'desc' ? '<' : '>', query.cursor);
  const rows: Row[] = await q;
  return rows.map((row) => ({ ...toEvent(row), subject: (row.subject_pseudonym as string | null) ?? null }));
}

/** Grouped counts computed by the database: a handful of rows whatever the data volume. */
export async function storeStats(
  ctx: TableContext,
  now: number,
): Promise<{ subjects: number; groups: StateGroup[]; actions: Record<string, number> }> {
  const subjects: Row | undefined = await ctx.knex(ctx.table('subjects')).whereNotNull('pseudonym').count({ n: '*' }).first();
  const rows = rawRows(await ctx.knex.raw(
    `select requirement, decision, version, pending_version,
       case when pending_expires_at is not null and pending_expires_at > ? then 1 else 0 end as pending_live,
       case when expires_at is not null and expires_at <= ? then 1 else 0 end as lapsed,
       count(*) as n
     from ?? group by 1, 2, 3, 4, 5, 6`,
    [now, now, ctx.table('states')],
  ));
  const actionRows: Row[] = await ctx.knex(ctx.table('events')).select('action').count({ n: '*' }).groupBy('action');
  return {
    subjects: int(subjects?.n ?? 0),
    groups: rows.map((row) => ({
      requirement: row.requirement as string,
      decision: (row.decision as StateGroup['decision']) ?? null,
      version: row.version === null || row.version === undefined ? null : int(row.version),
      pendingVersion: row.pending_version === null || row.pending_version === undefined ? null : int(row.pending_version),
      pendingLive: int(row.pending_live) === 1,
      lapsed: int(row.lapsed) === 1,
      count: int(row.n),
    })),
    actions: Object.fromEntries(actionRows.map((row) => [row.action as string, int(row.n)])),
  };
}
