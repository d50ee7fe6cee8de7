import { randomBytes } from 'node:crypto';
import type { OutboxBacklog } from './admin-records';
import type { ClaimedOutboxEntry, OutboxEntry } from './records';

interface Row {
  id: string;
  handler: string;
  event: OutboxEntry['event'];
  chain: string;
  eventId: string | null;
  payload: string;
  attempts: number;
  availableAt: number;
  lockedUntil: number | null;
  claim: string | null;
}

/** The in-memory tracker's outbox: the same claim and lease rules as the Knex tracker. */
export class MemoryOutbox {
  private readonly rows = new Map<string, Row>();
  private nextId = 1;

  add(chain: string, entries: OutboxEntry[], eventIds: string[]): void {
    for (const entry of entries) {
      const id = String(this.nextId++);
      this.rows.set(id, {
        id,
        handler: entry.handler,
        event: entry.event,
        chain,
        eventId: entry.eventIndex === null ? null : (eventIds[entry.eventIndex] ?? null),
        payload: entry.payload,
        attempts: 0,
        availableAt: entry.availableAt,
        lockedUntil: null,
        claim: null,
      });
    }
  }

  /** Entries per handler, with the earliest due time of each. */
  backlog(): OutboxBacklog[] {
    const out = new Map<string, OutboxBacklog>();
    for (const row of this.rows.values()) {
      const entry = out.get(row.handler);
      if (entry === undefined) out.set(row.handler, { handler: row.handler, entries: 1, earliestDueAt: row.availableAt });
      else {
        entry.entries += 1;
        entry.earliestDueAt = Math.min(entry.earliestDueAt, row.availableAt);
      }
    }
    return [...out.values()];
  }

  claim(query: { handlers: string[]; now: number; leaseMs: number; limit: number }): ClaimedOutboxEntry[] {
    const claimed: ClaimedOutboxEntry[] = [];
    // Rows are kept in id order: the first row of a chain and handler is the one to deliver next.
    const behind = new Set<string>();
    for (const row of this.rows.values()) {
      if (claimed.length >= query.limit) break;
      const queue = `${row.chain}/${row.handler}`;
      if (behind.has(queue)) continue;
      behind.add(queue);
      if (!query.handlers.includes(row.handler) || row.availableAt > query.now) continue;
      if (row.lockedUntil !== null && row.lockedUntil >= query.now) continue;
      row.lockedUntil = query.now + query.leaseMs;
      row.claim = randomBytes(16).toString('hex');
      const { id, handler, event, eventId, payload, attempts, claim } = row;
      claimed.push({ id, handler, event, eventId, payload, attempts, claim });
    }
    return claimed;
  }

  complete(id: string): void {
    this.rows.delete(id);
  }

  retry(entry: ClaimedOutboxEntry, availableAt: number): void {
    const row = this.rows.get(entry.id);
    if (!row || row.claim !== entry.claim) return;
    Object.assign(row, { attempts: entry.attempts + 1, availableAt, lockedUntil: null, claim: null });
  }

  claimed(entry: ClaimedOutboxEntry): boolean {
    return this.rows.get(entry.id)?.claim === entry.claim;
  }

  /** Drops a subject's entries (erasure). */
  deleteChain(chain: string): void {
    for (const [id, row] of this.rows) if (row.chain === chain) this.rows.delete(id);
  }
}
