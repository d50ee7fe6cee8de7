import type { StoredRequirementVersion, SyncOptions, SyncOutcome } from '../tracker/records';
import { fromVersion, toVersion, type Row } from './rows';
import type { TableContext } from './table-context';
import { writeLockFirst } from './write-lock';

/**
 * Stores a requirement version, or finds it stored: `ok` for the same text (or one nobody has
 * answered, replaced whole), `text_changed` for another text already answered, `downgrade`
 * when a newer version is stored than the host registers.
 */
export function syncRequirement(ctx: TableContext, version: StoredRequirementVersion, options: SyncOptions = {}): Promise<SyncOutcome> {
  const table = ctx.table('requirements');
  return ctx.knex.transaction(async (trx) => {
    // Processes starting at once all sync their requirements.
    await writeLockFirst(trx, table);
    const top = (await trx(table).where({ id: version.id }).max({ max: 'version' }).first()) as Row | undefined;
    const highest = Number(top?.max ?? 0);
    if (highest > Math.max(version.version, options.highestRegistered ?? 0)) return { kind: 'downgrade', highest };
    // Several processes may start at once: insert if absent, then compare what is stored.
    await trx(table).insert(fromVersion(version)).onConflict(['id', 'version']).ignore();
    const stored = (await trx(table).where({ id: version.id, version: version.version }).first()) as Row;
    if (stored.text_hash === version.textHash) return { kind: 'ok' };
    const referenced: Row | undefined = await trx(ctx.table('events'))
      .where({ requirement: version.id, version: version.version })
      .first('id');
    if (referenced) return { kind: 'text_changed' };
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
