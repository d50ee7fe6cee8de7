import { leafCount, leafEventHash, leafId } from '../audit/log-leaf';
import { ConsentIntegrityError } from '../errors';
import type { EventRewrite } from '../tracker/capabilities';
import type { StoredEvent } from '../tracker/records';
import { variableLimit } from './bulk-sql';
import { scanEvents } from './chain-scan';
import { parseKey, readLogHead, scanLogEntries } from './log-store';
import { isPostgres } from './migrate';
import { packLeaves } from './packed-leaves';
import { quote } from './quote';
import type { TableContext } from './table-context';
import type { Row } from './rows';

/*
 * The events of an upgraded store that the library rewrites in the current format: read in
 * (chain, seq) order, a page at a time, written back in batches, and their leaves in the global
 * log rewritten after them.
 */

const PAGE = 2000;
const ENTRY_PAGE = 50;

/** Every stored event in (chain, seq) order, one page in memory, taken chain by chain. */
export class EventCursor {
  private page: StoredEvent[] = [];
  private at = 0;
  private done = false;
  private after: { chain: string; seq: number } | undefined;

  constructor(private readonly ctx: TableContext) {}

  /** The next event when it belongs to `chain` (taken), else null: it belongs to a later one, or there is none. */
  async take(chain: string): Promise<StoredEvent | null> {
    const next = await this.peek();
    if (next === null || next.chain > chain) return null;
    if (next.chain < chain) throw new ConsentIntegrityError(`event ${next.id} belongs to chain ${next.chain}, which has no head`);
    this.at += 1;
    return next;
  }

  /** Throws when events are left over that belong to no chain read. */
  async end(): Promise<void> {
    const next = await this.peek();
    if (next !== null) throw new ConsentIntegrityError(`event ${next.id} belongs to chain ${next.chain}, which has no head`);
  }

  private async peek(): Promise<StoredEvent | null> {
    if (this.at < this.page.length) return this.page[this.at] as StoredEvent;
    if (this.done) return null;
    this.page = await scanEvents(this.ctx, { after: this.after, limit: PAGE });
    this.at = 0;
    const last = this.page[this.page.length - 1];
    if (last === undefined || this.page.length < PAGE) this.done = true;
    if (last !== undefined) this.after = { chain: last.chain, seq: last.seq };
    return this.page[0] ?? null;
  }
}

/** Writes `rewrites` into the events table, a few hundred rows a statement. */
export async function rewriteEvents(ctx: TableContext, rewrites: readonly EventRewrite[]): Promise<void> {
  const postgres = isPostgres(ctx.knex);
  const tuple = postgres ? '(?::bigint, ?::bytea, ?::bytea, ?::varchar)' : '(?, ?, ?, ?)';
  const events = quote(ctx.table('events'));
  const perStatement = Math.min(500, Math.floor(variableLimit(ctx.knex) / 4));
  for (let start = 0; start < rewrites.length; start += perStatement) {
    const batch = rewrites.slice(start, start + perStatement);
    const bindings = batch.flatMap((r) => [r.id, Buffer.from(r.hash, 'hex'), r.personalDigest === null ? null : Buffer.from(r.personalDigest, 'hex'), r.actor]);
    await ctx.knex.raw(
      `with "v" ("id", "hash", "digest", "actor") as (values ${batch.map(() => tuple).join(', ')}) ` +
        `update ${events} set "hash" = "v"."hash", "personal_digest" = "v"."digest", "actor" = "v"."actor" from "v" where ${events}."id" = "v"."id"`,
      bindings,
    );
  }
}

/**
 * Rewrites the leaves of the global log from the events' hashes as stored now, after events were
 * rewritten: a leaf is an event's id and hash. Only before the log was first sealed: its tree
 * would no longer match its leaves.
 *
 * @throws Error when the log was sealed already.
 */
export async function rewriteLeaves(ctx: TableContext): Promise<void> {
  if ((await readLogHead(ctx)) !== null) throw new ConsentIntegrityError('the global log was sealed before the upgraded events were rewritten');
  const log = ctx.table('log');
  for (let after: string | undefined; ;) {
    const entries = await scanLogEntries(ctx, { after, limit: ENTRY_PAGE });
    for (const entry of entries) {
      const leaves = Buffer.from(entry.leaves);
      const ids = Array.from({ length: leafCount(leaves) }, (_, i) => leafId(leaves, i));
      const hashes = await hashesOf(ctx, ids);
      let changed = false;
      for (let i = 0; i < ids.length; i += 1) {
        const hash = hashes.get(ids[i] as string);
        const stored = leafEventHash(leaves, i);
        if (hash === undefined || hash.equals(stored)) continue;
        hash.copy(stored);
        changed = true;
      }
      const [tx, part] = parseKey(entry.key);
      if (changed) await ctx.knex(log).where({ tx, part }).update({ leaves: packLeaves(leaves) });
    }
    if (entries.length < ENTRY_PAGE) return;
    after = (entries[entries.length - 1] as { key: string }).key;
  }
}

/** The stored hashes of the events `ids` names, by id. */
async function hashesOf(ctx: TableContext, ids: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const per = variableLimit(ctx.knex);
  for (let start = 0; start < ids.length; start += per) {
    const rows: Row[] = await ctx.knex(ctx.table('events')).whereIn('id', ids.slice(start, start + per)).select('id', 'hash');
    for (const row of rows) out.set(String(row.id), Buffer.from(row.hash as Uint8Array));
  }
  return out;
}
