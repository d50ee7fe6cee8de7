import { idBelow } from '../audit/log-seal';
import type { LeafPosition, LogBlock, LogBlockQuery, LogEntry, LogFold, LogHead } from './records';

const copyBlock = (b: LogBlock): LogBlock => ({ ...b, start: { ...b.start } });

/**
 * The global log of the in-memory tracker: entries keyed by their position (1, 2, …), sealed
 * in that order. One process, one event loop: a seal never races a write.
 */
export class MemoryLog {
  private readonly entries: LogEntry[] = [];
  private readonly blocks: LogBlock[] = [];
  private head: LogHead | null = null;

  /** Appends the entry of one write (nothing for a write without events). */
  append(leaves: Buffer): void {
    if (leaves.length > 0) this.entries.push({ key: String(this.entries.length + 1), leaves: Buffer.from(leaves) });
  }

  seal(fold: LogFold): LogHead | null {
    fold.begin(this.head);
    const from = this.head === null ? 0 : Number(this.head.mark);
    // An empty log is sealed too, once: from then on a log without a head has lost it.
    if (from >= this.entries.length && this.head !== null) return this.copyHead();
    for (const entry of this.entries.slice(from)) this.blocks.push(...fold.add(entry).map(copyBlock));
    this.head = fold.end(String(this.entries.length));
    return this.copyHead();
  }

  copyHead(): LogHead | null {
    return this.head === null ? null : { ...this.head, subtrees: [...this.head.subtrees], open: this.head.open && { ...this.head.open } };
  }

  page(query: { after?: string; limit: number }): LogEntry[] {
    const from = query.after === undefined ? 0 : Number(query.after);
    return this.entries.slice(from, from + query.limit).map((e) => ({ key: e.key, leaves: Buffer.from(e.leaves) }));
  }

  blockPage(query: LogBlockQuery): LogBlock[] {
    const { containing, from } = query;
    return this.blocks
      .filter((b) => from === undefined || b.index >= from)
      .filter((b) => containing === undefined || (!idBelow(containing, b.minId) && !idBelow(b.maxId, containing)))
      .slice(0, query.limit)
      .map(copyBlock);
  }

  leaves(query: { from: LeafPosition; count: number }): Buffer {
    const parts: Buffer[] = [];
    let wanted = query.count * 40;
    for (let i = Number(query.from.entry) - 1, offset = query.from.offset * 40; i < this.entries.length && wanted > 0; i += 1, offset = 0) {
      const part = (this.entries[i] as LogEntry).leaves.subarray(offset, offset + wanted);
      parts.push(part);
      wanted -= part.length;
    }
    return Buffer.concat(parts);
  }
}
