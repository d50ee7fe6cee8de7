import type { StoredRequirementVersion, SyncOptions, SyncOutcome } from '../tracker/records';
import { fromVersion, toVersion, type Row } from './rows';
import type { TableContext } from './table-context';
import { writeLockFirst } from './write-lock';

/**
 * Stores a requirement version, or finds it stored: `ok` for the same text (or one nobody has
 * answered, replaced whole), `text_changed` for another text already answered (or an answered
 * version no longer stored), `downgrade` when a newer version is stored than the host registers.
 */
export function syncRequirement(ctx: TableContext, version: StoredRequirementVersion, options: SyncOptions = {}): Promise<SyncOutcome> {
  const table = ctx.table('requirements');
  return ctx.knex.transaction(async (trx) => {
    // Processes starting at once all sync their requirements.
    await writeLockFirst(trx, table);
    const top = (await trx(table).where({ id: version.id }).max({ max: 'version' }).first()) as Row | undefined;
    const highest = Number(top?.max ?? 0);
    if (highest > Math.max(version.version, options.highestRegistered ?? 0)) return { kind: 'downgrade', highest };
    const events = () => trx(ctx.table('events')).where({ requirement: version.id, version: version.version });
    const answered = async (): Promise<boolean> => (await events().first('id')) !== undefined;
    // A version people answered through the library whose row is gone is not stored again:
    // nothing would show that the text registered now is the one they saw. (An import may name
    // a version that was never stored: it keeps no text.)
    const present: Row | undefined = await trx(table).where({ id: version.id, version: version.version }).first('text_hash');
    if (present === undefined && (await events().whereNot({ source: 'import' }).first('id')) !== undefined) return { kind: 'text_changed' };
    // Several processes may start at once: insert if absent, then compare what is stored.
    await trx(table).insert(fromVersion(version)).onConflict(['id', 'version']).ignore();
    const stored = (await trx(table).where({ id: version.id, version: version.version }).first()) as Row;
    if (stored.text_hash === version.textHash) return { kind: 'ok' };
    if (await answered()) return { kind: 'text_changed' };
    // Nobody has answered this text: it is replaced whole, as if stored now (its seal covers the time).
    await trx(table).where({ id: version.id, version: version.version }).update(fromVersion(version));
    return { kind: 'ok' };
  });
}

/** The stored versions of `ids`, by id, then oldest first. */
export async function requirementVersions(ctx: TableContext, ids: string[]): Promise<StoredRequirementVersion[]> {
  if (ids.length === 0) return [];
  const rows = (await ctx.knex(ctx.table('requirements'))
    .whereIn('id', ids)
    .orderBy([{ column: 'id' }, { column: 'version' }])) as Row[];
  return rows.map(toVersion);
}

/** A requirement version that events answered. */
export interface AnsweredVersion {
  id: string;
  version: number;
}

/**
 * The requirement versions that events answered through the library (imports aside: they may
 * name a version that was never stored) above the highest version the requirements table holds
 * for their requirement, or for a requirement it holds none of: the newest answered version of
 * each, by id, leaving out the requirement ids in `ignore` (an erasure's). A version deleted
 * below the highest is not found here (`verify()` reports every one): this is what would let an
 * older version stand in for the current one. Finds the events' requirement ids by a loose scan
 * of their index, then per requirement the highest version above the stored one among its events
 * that are not imports (a short read of the index on PostgreSQL; on SQLite, whose index is by
 * requirement and id, a read of all that requirement's events), and reads the requirements table
 * again for each version found: a version is stored before anyone answers it, so one stored and
 * answered while the events were read is not reported.
 */
export async function unstoredVersions(ctx: TableContext, ignore: readonly string[] = []): Promise<AnsweredVersion[]> {
  const events = ctx.table('events');
  const requirements = ctx.table('requirements');
  const highest = new Map<string, number>();
  const tops: Row[] = await ctx.knex(requirements).select('id').max({ top: 'version' }).groupBy('id');
  for (const row of tops) highest.set(String(row.id), Number(row.top));
  const gone: AnsweredVersion[] = [];
  for (let id = await nextRequirement(ctx, events, null); id !== null; id = await nextRequirement(ctx, events, id)) {
    if (ignore.includes(id)) continue;
    const q = ctx.knex(events).where({ requirement: id }).whereNotNull('version').whereNot({ source: 'import' });
    const top = highest.get(id);
    if (top !== undefined) q.where('version', '>', top);
    const row = (await q.max({ v: 'version' }).first()) as Row | undefined;
    if (row?.v === null || row?.v === undefined) continue;
    const version = Number(row.v);
    const storedSince: Row | undefined = await ctx.knex(requirements).where({ id }).where('version', '>=', version).first('version');
    if (storedSince === undefined) gone.push({ id, version });
  }
  return gone;
}

/** The lowest requirement id of an event after `after` (from the first without it), or null. */
async function nextRequirement(ctx: TableContext, events: string, after: string | null): Promise<string | null> {
  const q = ctx.knex(events);
  if (after !== null) q.where('requirement', '>', after);
  const row = (await q.min({ r: 'requirement' }).first()) as Row | undefined;
  return typeof row?.r === 'string' ? row.r : null;
}
