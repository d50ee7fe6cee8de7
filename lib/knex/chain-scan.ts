import type { Knex } from 'knex';
import type { CurrentRecord, SealedHead, StoredEvent, SubjectSnapshot, WritePlan } from '../tracker/records';
import type { EventScanQuery, HeadScanQuery } from '../tracker/tracker';
import { transactionRetryingConflicts } from './conflict-retry';
import { writeSealed, type TableContext } from './chain-store';
import { scanEventPage } from './event-scan';
import { byFirstValue, readRows } from './json-page';
import { isSqlite } from './migrate';
import { bytes, hex, hexOrNull } from './row-codec';
import { addHeads, headColumns, joinHead } from './head-rows';
import { nextLapse } from '../tracker/record-blob';
import { recordsOrUnreadable, UNREADABLE_RECORD } from '../tracker/stored-records';
import { pageColumns, toHead, type Row } from './rows';
import { writeLockFirst } from './write-lock';

/** A keyset page of events in (chain, seq) order: one short query on the unique index. */
export const scanEvents = (ctx: TableContext, query: EventScanQuery): Promise<StoredEvent[]> => scanEventPage(ctx, query);

// What a head is made of (its position and hash from its newest event), the subject id and the
// records stored with it: verification reads every subject row.
const headPage = (subjects: string): Record<string, string> => ({
  ...Object.fromEntries(['chain', 'pseudonym', 'head_id', 'erased_at', 'head_mac', 'sealed_subject', 'records', 'lapse_at'].map((c) => [c, `${subjects}.${c}`])),
  ...headColumns(),
});

/**
 * A page of heads in chain order, each with its chain's records (which its row holds). Records
 * that do not decode read as one that no seal covers (`recordsOrUnreadable`): verification
 * reports the chain instead of failing.
 */
export async function scanHeads(ctx: TableContext, query: HeadScanQuery): Promise<SealedHead[]> {
  // Columns named with their table: the page selects them as hex under the same names (see event-scan).
  const subjects = ctx.table('subjects');
  const q = joinHead(ctx.knex(subjects), ctx.table('events'), subjects, { newest: false }).orderBy(`${subjects}.chain`).limit(query.limit);
  if (query.after !== undefined) q.where(`${subjects}.chain`, '>', bytes(query.after));
  if (query.chains !== undefined) q.whereIn(`${subjects}.chain`, query.chains.map(bytes));
  if (query.pseudonym !== undefined) q.where(`${subjects}.pseudonym`, bytes(query.pseudonym));
  // A page of every chain in order holds every chain between its first and last: one range read.
  const contiguous = query.chains === undefined && query.pseudonym === undefined;
  // A lookup (of some chains, or a pseudonym's) on the application's connection: the readers are for scans of the whole store.
  const reads: TableContext = contiguous ? ctx : { knex: ctx.knex, table: (name) => ctx.table(name) };
  const rows = await readRows(reads, q, pageColumns(ctx.knex, headPage(subjects), true), byFirstValue);
  return rows.map((row) => ({ ...toHead(row), sealedSubject: hexOrNull(row.sealed_subject)?.toLowerCase() ?? null, records: checkedRecords(row) }));
}

/**
 * A head row's records, and one that no seal covers (`UNREADABLE_RECORD`) when they do not
 * decode or when its `lapse_at` is not the one they imply: the sweep finds the grants to expire
 * by that column alone, which no seal covers, so verification reports a changed one as a
 * changed record.
 */
function checkedRecords(row: Row): CurrentRecord[] {
  const records = recordsOrUnreadable(row.records);
  if (storedLapse(row.lapse_at) !== nextLapse(records) && !records.some((r) => r.requirement === '')) records.push({ ...UNREADABLE_RECORD });
  return records;
}

/**
 * A stored `lapse_at` as the sweep's comparison reads it: null for none, the instant for an
 * integer (a number, or PostgreSQL's bigint as its decimal text), and NaN, which matches no
 * expiry, for anything else. On SQLite a text such as '0x…' would read as a number in
 * JavaScript while the sweep's `lapse_at <= now` never holds for it.
 */
function storedLapse(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : Number.NaN;
  if (typeof value === 'string' && /^-?[1-9]\d{0,15}$|^0$/.test(value)) return Number(value);
  return Number.NaN;
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
    const head = toHead(subject);
    const records = recordsOrUnreadable(subject.records);
    const snapshot: SubjectSnapshot = {
      chain: head.chain, pseudonym: hex(subject.pseudonym), seq: head.seq, hash: head.hash, headId: head.id, mac: head.mac, records,
    };
    const sealed = await writeSealed(ctx, trx, snapshot, plan(snapshot));
    const redacted = await trx(ctx.table('events'))
      .where({ chain })
      .whereNotIn('id', sealed.events.map((event) => event.id))
      .update({ actor: null, note: null, data: null, ip: null, user_agent: null, personal_salt: null });
    // Undelivered events of durable handlers name the subject (encrypted): erasure drops them.
    await trx(ctx.table('outbox')).where({ chain }).delete();
    await trx(ctx.table('subjects')).where({ chain }).update({ pseudonym: null, sealed_subject: null, records: null, lapse_at: null, erased_at: Date.now() });
    await announce(trx);
    return redacted;
  });
}
