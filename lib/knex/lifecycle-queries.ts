import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { Coalescer, type Outcome } from './coalescer';
import type { ClaimedOutboxEntry, LapsedGrant, OutboxEntry } from '../tracker/records';
import { idValue } from './event-rows';
import { bytes, hex, hexOrNull } from './row-codec';
import { isPostgres } from './migrate';
import { recordsOrUnreadable } from '../tracker/stored-records';
import type { Row } from './rows';

type Table = (name: string) => string;

/** The columns of an outbox row, in the order `outboxRows` gives them. */
export const OUTBOX_COLUMNS = ['handler', 'event', 'chain', 'event_id', 'payload', 'attempts', 'available_at', 'created_at'] as const;

/** The rows (`OUTBOX_COLUMNS`) of a plan's outbox entries for the chain `chain`, given the stored ids of its events. */
export function outboxRows(chain: Buffer, entries: readonly OutboxEntry[], eventIds: readonly string[], now: number): unknown[][] {
  return entries.map((entry) => {
    const eventId = entry.eventIndex === null ? null : idValue(eventIds[entry.eventIndex] ?? null);
    return [entry.handler, entry.event, chain, eventId, entry.payload, 0, entry.availableAt, now];
  });
}

/** Inserts a plan's outbox entries inside the write transaction, linking their events. */
export async function insertOutbox(
  trx: Knex.Transaction,
  table: Table,
  chain: string,
  entries: OutboxEntry[],
  eventIds: string[],
  now: number,
): Promise<void> {
  if (entries.length === 0) return;
  const rows = outboxRows(bytes(chain), entries, eventIds, now).map((row) => Object.fromEntries(OUTBOX_COLUMNS.map((column, i) => [column, row[i]])));
  // An outbox row binds 8 values; stay far below SQLite's limit on bound variables.
  for (let i = 0; i < rows.length; i += 500) await trx(table('outbox')).insert(rows.slice(i, i + 500));
}

/**
 * Grants whose expiry is due and not yet recorded, in (chain, requirement) order after
 * `query.after`: the subjects whose `lapse_at` is due, found through its index, then their
 * records (none from records that do not decode: `verify()` reports those).
 */
export async function lapsedGrants(
  knex: Knex,
  table: Table,
  query: { now: number; limit: number; after?: string },
): Promise<LapsedGrant[]> {
  const [afterChain, afterRequirement] = query.after === undefined ? [undefined, undefined] : (query.after.split('/') as [string, string | undefined]);
  const grants: LapsedGrant[] = [];
  // From the subject of `after` (it may have grants left), then past the last subject read. A
  // row may give no grant (its `lapse_at` changed, or records that do not decode): pages are read
  // until `limit` grants are found or the subjects due run out, so that the sweep, which stops at
  // a short page, passes over such a row.
  let from = afterChain === undefined ? undefined : { chain: bytes(afterChain), inclusive: true };
  for (;;) {
    const q = knex(table('subjects'))
      .whereNotNull('lapse_at')
      .where('lapse_at', '<=', query.now)
      .whereNotNull('pseudonym')
      .orderBy('chain')
      .limit(query.limit)
      .select('chain', 'pseudonym', 'sealed_subject', 'records');
    if (from !== undefined) q.where('chain', from.inclusive ? '>=' : '>', from.chain);
    const rows = (await q) as Row[];
    for (const row of rows) {
      const chain = hex(row.chain);
      for (const r of recordsOrUnreadable(row.records)) {
        if (r.decision !== 'granted' || r.expiryRecorded || r.expiresAt === null || r.expiresAt > query.now) continue;
        if (chain === afterChain && r.requirement <= (afterRequirement ?? '')) continue;
        grants.push({ pseudonym: hex(row.pseudonym), requirement: r.requirement, key: `${chain}/${r.requirement}`, sealedSubject: hexOrNull(row.sealed_subject) });
      }
    }
    if (grants.length >= query.limit || rows.length < query.limit) return grants.slice(0, query.limit);
    from = { chain: (rows[rows.length - 1] as Row).chain as Buffer, inclusive: false };
  }
}

/** An entry nobody holds: never claimed, or its lease lapsed (`column`, qualified where the query names its table). */
const claimable = (now: number, column = 'locked_until') => (q: Knex.QueryBuilder): void => {
  q.whereNull(column).orWhere(column, '<', now);
};

/** Orders rows by their id, a bigint (a string on PostgreSQL). */
const byId = (a: Row, b: Row): number => {
  const x = BigInt(String(a.id));
  const y = BigInt(String(b.id));
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * Claims up to `limit` entries with one conditional update of the first claimable ones, each the
 * oldest of its subject and handler, which returns the rows it claimed: one statement
 * whatever the batch size, and no scan for the claim (the outbox of a handler down for days is
 * large, and none of it due; an entry behind an older one is passed over through the index on
 * `chain`, and a retry sets it due no earlier than that one). A row changes only while nobody holds it,
 * so of two processes racing for an entry exactly one claims it (on PostgreSQL the second skips
 * rows the first has locked, and takes the next ones).
 */
export async function claimOutbox(
  knex: Knex,
  table: Table,
  query: { handlers: string[]; now: number; leaseMs: number; limit: number },
): Promise<ClaimedOutboxEntry[]> {
  if (query.handlers.length === 0 || query.limit < 1) return [];
  const outbox = table('outbox');
  const claim = randomBytes(16).toString('hex');
  // Only the oldest entry of a subject for a handler: the next one waits until it is delivered,
  // so a handler never hears of a withdrawal before the grant it withdraws. SQLite takes them in
  // the order they fall due, as its index on handler and due time gives them, and stops at
  // `limit` (in the order written it walked every entry when none was due); PostgreSQL's planner
  // keeps the order written, which it reads by the primary key when most are due.
  const pg = isPostgres(knex);
  const candidates = knex({ o: outbox })
    .whereIn('o.handler', query.handlers)
    .where('o.available_at', '<=', query.now)
    .where(claimable(query.now, 'o.locked_until'))
    .whereNotExists((q) => { void q.select(knex.raw('1')).from({ b: outbox }).whereRaw('?? = ?? and ?? = ?? and ?? < ??', ['b.chain', 'o.chain', 'b.handler', 'o.handler', 'b.id', 'o.id']); })
    .orderBy(pg ? [{ column: 'o.id' }] : [{ column: 'o.available_at' }, { column: 'o.id' }])
    .limit(query.limit)
    .select('o.id');
  if (pg) candidates.forUpdate().skipLocked();
  const rows: Row[] = await knex(outbox)
    .whereIn('id', candidates)
    .where(claimable(query.now))
    .update({ locked_until: query.now + query.leaseMs, claim }, ['id', 'handler', 'event', 'event_id', 'payload', 'attempts']);
  // RETURNING gives the rows in no promised order: the oldest is delivered first.
  return rows.sort(byId).map((row) => ({
    id: String(row.id),
    handler: row.handler as string,
    event: row.event as ClaimedOutboxEntry['event'],
    eventId: row.event_id === null || row.event_id === undefined ? null : (row.event_id as string | number).toString(),
    payload: row.payload as string,
    attempts: Number(row.attempts),
    claim,
  }));
}

const DONE: Outcome<void> = { ok: true, value: undefined };

/**
 * Deletes delivered entries: the ids asked for in one turn of the event loop, or while the
 * deletion before them ran, go in one statement (and on SQLite one commit).
 */
export function outboxCompletions(knex: Knex, table: Table): Coalescer<string, void> {
  const complete = async (ids: string[]) => {
    await knex(table('outbox')).whereIn('id', ids).delete();
    return ids.map(() => DONE);
  };
  return new Coalescer(complete, { concurrency: 1, maxBatch: 500, gather: true });
}

export async function outboxClaimed(knex: Knex, table: Table, entry: ClaimedOutboxEntry): Promise<boolean> {
  const row: unknown = await knex(table('outbox')).where({ id: entry.id, claim: entry.claim }).first('id');
  return row !== undefined;
}

/**
 * Releases a claimed entry for another attempt at `availableAt`. The entries queued behind it (its
 * subject's, for its handler) are not due before then either: a claim passes them over without
 * looking up their elders, however long a handler is down.
 */
export async function retryOutbox(knex: Knex, table: Table, entry: ClaimedOutboxEntry, availableAt: number): Promise<void> {
  const outbox = table('outbox');
  // Together: between the two, the entry's lease could lapse and another process deliver it,
  // leaving the ones behind it waiting for nothing.
  await knex.transaction(async (trx) => {
    const released = await trx(outbox)
      .where({ id: entry.id, claim: entry.claim })
      .update({ attempts: entry.attempts + 1, available_at: availableAt, locked_until: null, claim: null }, ['chain']);
    const chain = (released[0] as Row | undefined)?.chain;
    if (chain === undefined) return;
    await trx(outbox).where({ chain, handler: entry.handler }).where('id', '>', entry.id).where('available_at', '<', availableAt).update({ available_at: availableAt });
  });
}
