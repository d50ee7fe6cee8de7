import type { ChainHead, StoredEvent, SubjectSnapshot, WritePlan } from '../tracker/records';
import type { EventScanQuery, HeadScanQuery } from '../tracker/tracker';
import { writeSealed, type TableContext } from './chain-store';
import { scanEventPage } from './event-scan';
import { readRows } from './json-page';
import { isSqlite } from './migrate';
import { toHead, toRecord, type Row } from './rows';

/** A keyset page of events in (chain, seq) order: one short query on the unique index. */
export const scanEvents = (ctx: TableContext, query: EventScanQuery): Promise<StoredEvent[]> => scanEventPage(ctx, query);

// Only what a head is made of: verification reads every subject row.
const HEAD_COLUMNS = ['chain', 'seq', 'head_hash', 'head_id', 'erased_at', 'head_mac'];


export async function scanHeads(ctx: TableContext, query: HeadScanQuery): Promise<ChainHead[]> {
  const q = ctx.knex(ctx.table('subjects')).orderBy('chain').limit(query.limit);
  if (query.after !== undefined) q.where('chain', '>', query.after);
  if (query.chains !== undefined) q.whereIn('chain', query.chains);
  if (query.pseudonym !== undefined) q.where('pseudonym', query.pseudonym);
  const rows = await readRows(ctx.knex, q, HEAD_COLUMNS, (a, b) => (a[0] as string) < (b[0] as string));
  return rows.map(toHead);
}

/**
 * Appends the erase event, redacts the chain and unlinks the pseudonym, in one transaction.
 * On SQLite it then checkpoints the WAL into the database file and truncates it: the WAL still
 * holds the pages as they were before the erasure (and every earlier version of them) until
 * then. A reader in another process can keep a checkpoint from finishing; the copies left then
 * go at a later checkpoint, and the database file itself holds none (with secure_delete).
 */
export async function eraseChain(
  ctx: TableContext,
  pseudonym: string,
  plan: (snapshot: SubjectSnapshot) => WritePlan,
): Promise<number | null> {
  const redacted = await redactChain(ctx, pseudonym, plan);
  if (redacted !== null && isSqlite(ctx.knex)) await ctx.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  return redacted;
}

function redactChain(ctx: TableContext, pseudonym: string, plan: (snapshot: SubjectSnapshot) => WritePlan): Promise<number | null> {
  return ctx.knex.transaction(async (trx) => {
    const subject = (await trx(ctx.table('subjects')).where({ pseudonym }).forUpdate().first()) as Row | undefined;
    if (!subject) return null;
    const chain = subject.chain as string;
    const rows = (await trx(ctx.table('states')).where({ chain })) as Row[];
    const head = toHead(subject);
    const snapshot = { chain, seq: head.seq, hash: head.hash, headId: head.id, records: rows.map(toRecord) };
    const sealed = await writeSealed(ctx, trx, snapshot, plan(snapshot));
    const redacted = await trx(ctx.table('events'))
      .where({ chain })
      .whereNotIn('id', sealed.events.map((event) => event.id))
      .update({ actor: null, note: null, data: null, ip: null, user_agent: null });
    await trx(ctx.table('states')).where({ chain }).delete();
    // Undelivered events of durable handlers name the subject (encrypted): erasure drops them.
    await trx(ctx.table('outbox')).where({ chain }).delete();
    await trx(ctx.table('subjects')).where({ chain }).update({ pseudonym: null, erased_at: Date.now() });
    return redacted;
  });
}
