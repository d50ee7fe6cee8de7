import type { Knex } from 'knex';
import type { CurrentRecord, SealedHead, StoredEvent, SubjectSnapshot, WritePlan } from '../tracker/records';
import type { EventScanQuery, HeadScanQuery } from '../tracker/tracker';
import { transactionRetryingConflicts } from './conflict-retry';
import { writeSealed, type TableContext } from './chain-store';
import { scanEventPage } from './event-scan';
import { orderByCodes, readJsonPage, readRows } from './json-page';
import { isPostgres, isSqlite } from './migrate';
import { bytes, hex, hexOrNull } from './row-codec';
import { addHeads, headColumns, joinHead } from './head-rows';
import { byChainThenRequirement, recordOfValues } from '../tracker/audience-rows';
import { groupRecords, pageColumns, STATE_PAGE_COLUMNS, toHead, toRecord, type Row } from './rows';
import { writeLockFirst } from './write-lock';

/** A keyset page of events in (chain, seq) order: one short query on the unique index. */
export const scanEvents = (ctx: TableContext, query: EventScanQuery): Promise<StoredEvent[]> => scanEventPage(ctx, query);

// What a head is made of (its position and hash from its newest event), and the subject id stored with it: verification reads every subject row.
const headPage = (subjects: string): Record<string, string> => ({
  ...Object.fromEntries(['chain', 'pseudonym', 'head_id', 'erased_at', 'head_mac', 'sealed_subject'].map((c) => [c, `${subjects}.${c}`])),
  ...headColumns(),
});

/**
 * A page of heads in chain order, each with its chain's records (a second read of the same page
 * of chains). A lookup (by chains or pseudonym: a subject's export, receipt or verification)
 * makes both reads in one read-only transaction, a snapshot on PostgreSQL: a write between them
 * would pair a head with records it did not seal. A page of the whole store reads them apart
 * (verification checks a chain it found wrong again, as one state).
 */
export async function scanHeads(ctx: TableContext, query: HeadScanQuery): Promise<SealedHead[]> {
  if (query.chains === undefined && query.pseudonym === undefined) return headsPage(ctx, query);
  try {
    return await ctx.knex.transaction(async (trx) => {
      if (isPostgres(ctx.knex)) await trx.raw('set transaction isolation level repeatable read, read only');
      return headsPage({ knex: trx, table: (name) => ctx.table(name) }, query);
    });
  } catch {
    // A statement that failed inside the transaction aborts it (PostgreSQL), where a plain read
    // would have been retried another way: read once more outside (a store that is down fails again).
    return headsPage(ctx, query);
  }
}

async function headsPage(ctx: TableContext, query: HeadScanQuery): Promise<SealedHead[]> {
  // Columns named with their table: the page selects them as hex under the same names (see event-scan).
  const subjects = ctx.table('subjects');
  const q = joinHead(ctx.knex(subjects), ctx.table('events'), subjects).orderBy(`${subjects}.chain`).limit(query.limit);
  if (query.after !== undefined) q.where(`${subjects}.chain`, '>', bytes(query.after));
  if (query.chains !== undefined) q.whereIn(`${subjects}.chain`, query.chains.map(bytes));
  if (query.pseudonym !== undefined) q.where(`${subjects}.pseudonym`, bytes(query.pseudonym));
  // A page of every chain in order holds every chain between its first and last: one range read.
  const contiguous = query.chains === undefined && query.pseudonym === undefined;
  // A lookup (of some chains, or a pseudonym's) on the application's connection: the readers are for scans of the whole store.
  const reads: TableContext = contiguous ? ctx : { knex: ctx.knex, table: (name) => ctx.table(name) };
  const rows = await readRows(reads, q, pageColumns(ctx.knex, headPage(subjects)), (a, b) => (a[0] as string) < (b[0] as string));
  const heads = rows.map((row) => ({ ...toHead(row), sealedSubject: hexOrNull(row.sealed_subject)?.toLowerCase() ?? null }));
  const records = await chainRecords(reads, heads.map((h) => h.chain), contiguous);
  return heads.map((head) => ({ ...head, records: records.get(head.chain) ?? [] }));
}

/**
 * The records of `chains` (in chain order), by chain: with `contiguous`, one range read on the
 * states' primary key from the first chain to the last (for a page of chains read in key order).
 */
export async function chainRecords(ctx: TableContext, chains: string[], contiguous: boolean): Promise<Map<string, CurrentRecord[]>> {
  if (chains.length === 0) return new Map();
  const states = ctx.table('states');
  const q = orderByCodes(ctx.knex, ctx.knex(states).orderBy(`${states}.chain`), `${states}.requirement`);
  if (contiguous) q.whereBetween(`${states}.chain`, [bytes(chains[0] as string), bytes(chains[chains.length - 1] as string)]);
  else q.whereIn(`${states}.chain`, chains.map(bytes));
  const values = await readJsonPage(ctx, q, pageColumns(ctx.knex, STATE_PAGE_COLUMNS), byChainThenRequirement);
  if (values === null) return groupRecords(await q.select([...STATE_PAGE_COLUMNS]), 'chain');
  const byChain = new Map<string, CurrentRecord[]>();
  for (const v of values) {
    const chain = v[0] as string;
    const list = byChain.get(chain);
    if (list) list.push(recordOfValues(v));
    else byChain.set(chain, [recordOfValues(v)]);
  }
  return byChain;
}

/**
 * Appends the erase event, redacts the chain and unlinks the pseudonym, in one transaction
 * that also runs `announce` (PostgreSQL's NOTIFY, so other processes drop the cached state).
 * On SQLite it then checkpoints the WAL into the database file and truncates it: the WAL still
 * holds the pages as they were before the erasure (and every earlier version of them) until
 * then. A reader in another process can keep a checkpoint from finishing; the copies left then
 * go at a later checkpoint, and the database file itself holds none (with secure_delete).
 */
export async function eraseChain(
  ctx: TableContext,
  pseudonym: string,
  plan: (snapshot: SubjectSnapshot) => WritePlan,
  announce: (trx: Knex.Transaction) => Promise<void> = () => Promise.resolve(),
): Promise<number | null> {
  const redacted = await redactChain(ctx, pseudonym, plan, announce);
  if (redacted !== null && isSqlite(ctx.knex)) await ctx.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  return redacted;
}

function redactChain(
  ctx: TableContext,
  pseudonym: string,
  plan: (snapshot: SubjectSnapshot) => WritePlan,
  announce: (trx: Knex.Transaction) => Promise<void>,
): Promise<number | null> {
  // Run again, like a write, when PostgreSQL rolls it back for a deadlock with one.
  return transactionRetryingConflicts(ctx.knex, async (trx) => {
    await writeLockFirst(trx, ctx.table('subjects'));
    const subject = (await trx(ctx.table('subjects')).where({ pseudonym: bytes(pseudonym) }).forUpdate().first()) as Row | undefined;
    if (!subject) return null;
    await addHeads(trx, ctx.table('events'), [subject]);
    const chain = subject.chain as Buffer;
    const rows = (await trx(ctx.table('states')).where({ chain })) as Row[];
    const head = toHead(subject);
    const snapshot: SubjectSnapshot = {
      chain: head.chain, pseudonym: hex(subject.pseudonym), seq: head.seq, hash: head.hash, headId: head.id, mac: head.mac, records: rows.map(toRecord),
    };
    const sealed = await writeSealed(ctx, trx, snapshot, plan(snapshot));
    const redacted = await trx(ctx.table('events'))
      .where({ chain })
      .whereNotIn('id', sealed.events.map((event) => event.id))
      .update({ actor: null, note: null, data: null, ip: null, user_agent: null, personal_salt: null });
    await trx(ctx.table('states')).where({ chain }).delete();
    // Undelivered events of durable handlers name the subject (encrypted): erasure drops them.
    await trx(ctx.table('outbox')).where({ chain }).delete();
    await trx(ctx.table('subjects')).where({ chain }).update({ pseudonym: null, sealed_subject: null, erased_at: Date.now() });
    await announce(trx);
    return redacted;
  });
}
