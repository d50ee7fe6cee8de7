import type { EventRewrite, UpgradeSealer } from '../tracker/capabilities';
import { insertStatements, runAll, upsertClause } from './bulk-sql';
import type { TableContext } from './chain-store';
import { scanHeads } from './chain-scan';
import { SEAL_PENDING_KEY } from './migrations/006-sealed-rows';
import { bytes } from './row-codec';
import { toVersion, type Row } from './rows';
import { foldLog } from './log-store';
import { EventCursor, rewriteEvents, rewriteLeaves } from './upgrade-events';

const PAGE = 1000;
// Event rewrites written in one go.
const REWRITES = 2000;

/** Whether migration 006 marked the store as upgraded and not yet sealed. */
export async function sealPending(ctx: TableContext): Promise<boolean> {
  return (await ctx.knex(ctx.table('meta')).where({ key: SEAL_PENDING_KEY }).first('key')) !== undefined;
}

/**
 * Seals an upgraded store in one transaction, its global log included. It starts by writing the
 * mark (the row lock on PostgreSQL, the write lock on SQLite): a second process waits there, then
 * finds the mark gone.
 * Heads and events are read side by side in chain order, one page of each in memory.
 */
export function sealUpgrade(ctx: TableContext, sealer: UpgradeSealer): Promise<boolean> {
  const meta = ctx.table('meta');
  return ctx.knex.transaction(async (trx) => {
    const marked = await trx(meta).where({ key: SEAL_PENDING_KEY }).update({ value: 'sealing' });
    if (marked === 0) return false;
    const inside: TableContext = { knex: trx, table: (name) => ctx.table(name) };
    const events = new EventCursor(inside);
    const rewrites: EventRewrite[] = [];
    let rewritten = 0;
    for (let after: string | undefined; ;) {
      const heads = await scanHeads(inside, { after, limit: PAGE });
      if (heads.length === 0) break;
      const seals: unknown[][] = [];
      for (const head of heads) {
        const chain = sealer.chain(head);
        for (let event = await events.take(head.chain); event !== null; event = await events.take(head.chain)) {
          const rewrite = chain.event(event);
          if (rewrite !== null) rewrites.push(rewrite);
          if (rewrites.length >= REWRITES) {
            rewritten += rewrites.length;
            await rewriteEvents(inside, rewrites.splice(0));
          }
        }
        seals.push([bytes(head.chain), bytes(chain.seal())]);
      }
      rewritten += rewrites.length;
      await rewriteEvents(inside, rewrites.splice(0));
      // Every row exists: the upsert takes its update branch, naming the not-null columns only because an INSERT must.
      await runAll(trx, insertStatements(trx, ctx.table('subjects'), ['chain', 'head_mac'], seals, upsertClause(['chain'], ['head_mac'])));
      after = (heads[heads.length - 1] as { chain: string }).chain;
    }
    await events.end();
    if (rewritten > 0) await rewriteLeaves(inside);
    const table = ctx.table('requirements');
    for (const row of (await trx(table).orderBy(['id', 'version'])) as Row[]) {
      const version = toVersion(row);
      await trx(table).where({ id: version.id, version: version.version }).update({ mac: bytes(sealer.version(version)) });
    }
    // The migration logged the existing events before the log had a head: it gets one here,
    // with the mark gone, so that no later start finds entries without a head.
    await foldLog(ctx, trx, sealer.log);
    await trx(meta).where({ key: SEAL_PENDING_KEY }).delete();
    return true;
  });
}
