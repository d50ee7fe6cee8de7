import type { UpgradeSealer } from '../tracker/capabilities';
import { insertStatements, runAll, upsertClause } from './bulk-sql';
import type { TableContext } from './chain-store';
import { scanHeads } from './chain-scan';
import { SEAL_PENDING_KEY } from './migrations/006-sealed-rows';
import { bytes } from './row-codec';
import { toVersion, type Row } from './rows';

const PAGE = 1000;

/** Whether migration 006 marked the store as upgraded and not yet sealed. */
export async function sealPending(ctx: TableContext): Promise<boolean> {
  return (await ctx.knex(ctx.table('meta')).where({ key: SEAL_PENDING_KEY }).first('key')) !== undefined;
}

/**
 * Seals an upgraded store in one transaction. It starts by writing the mark (the row lock on
 * PostgreSQL, the write lock on SQLite): a second process waits there, then finds the mark gone.
 */
export function sealUpgrade(ctx: TableContext, sealer: UpgradeSealer): Promise<boolean> {
  const meta = ctx.table('meta');
  return ctx.knex.transaction(async (trx) => {
    const marked = await trx(meta).where({ key: SEAL_PENDING_KEY }).update({ value: 'sealing' });
    if (marked === 0) return false;
    const inside: TableContext = { knex: trx, table: (name) => ctx.table(name) };
    const subjects = ctx.table('subjects');
    for (let after: string | undefined; ;) {
      const heads = await scanHeads(inside, { after, limit: PAGE });
      if (heads.length === 0) break;
      // Every row exists: the upsert takes its update branch, naming the not-null columns only because an INSERT must.
      const rows = heads.map((head) => [bytes(head.chain), bytes(sealer.head(head))]);
      await runAll(trx, insertStatements(trx, subjects, ['chain', 'head_mac'], rows, upsertClause(['chain'], ['head_mac'])));
      after = (heads[heads.length - 1] as { chain: string }).chain;
    }
    const table = ctx.table('requirements');
    for (const row of (await trx(table).orderBy(['id', 'version'])) as Row[]) {
      const version = toVersion(row);
      await trx(table).where({ id: version.id, version: version.version }).update({ mac: bytes(sealer.version(version)) });
    }
    await trx(meta).where({ key: SEAL_PENDING_KEY }).delete();
    return true;
  });
}
