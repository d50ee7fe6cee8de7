import type { LogBlock, LogEntry, LogFold, LogHead } from '../tracker/records';
import { canonicalJson } from './canonical-json';
import { hmacHex } from './keys';
import { leafCount, leafHashAt, leafId } from './log-leaf';
import { Frontier } from './merkle';

/** Height of a stored block's subtree: blocks of 256 leaves. */
export const BLOCK_HEIGHT = 8;
/** Leaves per stored block. */
export const BLOCK_LEAVES = 2 ** BLOCK_HEIGHT;

/** Why a seal of a log with entries and no head is refused. */
export const HEAD_MISSING = 'the log holds entries but its sealed head is missing: it was deleted without the secret';

/** A log head whose seal does not check: it was written without the secret. */
export class LogHeadError extends Error {
  constructor(message = 'the sealed head of the log fails its check: it was changed without the secret') {
    super(message);
    this.name = 'LogHeadError';
  }
}

/** The keyed seal of a log head: everything but `mac`. */
export function logHeadMac(key: Buffer, head: Omit<LogHead, 'mac'>): string {
  const { size, root, subtrees, mark, open } = head;
  return hmacHex(key, `ec-log-head\n${canonicalJson({ size, root, subtrees, mark, open })}`);
}

/** Whether a stored head carries its own seal. */
export function logHeadOk(key: Buffer, head: LogHead): boolean {
  return logHeadMac(key, head) === head.mac;
}

/** The frontier a head describes. */
export function frontierOf(head: LogHead | null): Frontier {
  return head === null ? new Frontier() : new Frontier(head.size, head.subtrees.map((h) => Buffer.from(h, 'hex')));
}

/** Numeric order of stored ids (decimal strings without leading zeros). */
export function idBelow(a: string, b: string): boolean {
  return a.length < b.length || (a.length === b.length && a < b);
}

/**
 * Folds unsealed entries into the log's tree (`LogFold`), keeping track of the block being
 * filled. Pure.
 */
export class LogFolder implements LogFold {
  private frontier = new Frontier();
  private open: LogHead['open'] = null;
  private headless = false;

  /**
   * `startsLog`: the log may hold entries before it has a head (a store just upgraded from a
   * release without the log, whose events the migration logged). Otherwise a log always has a
   * head from the first seal of its empty store on: entries without one mean it was deleted, and
   * folding them into a new tree would seal in whatever was removed with it.
   */
  constructor(private readonly key: Buffer, readonly startsLog = false) {}

  /** @throws LogHeadError when the stored head fails its seal. */
  begin(head: LogHead | null): void {
    if (head !== null && !logHeadOk(this.key, head)) throw new LogHeadError();
    this.frontier = frontierOf(head);
    this.open = head?.open ? { ...head.open } : null;
    this.headless = head === null;
  }

  /** @throws LogHeadError for an entry of a log whose head is missing (see the constructor). */
  add(entry: LogEntry): LogBlock[] {
    const blocks: LogBlock[] = [];
    const n = leafCount(entry.leaves);
    if (this.headless && !this.startsLog && n > 0) throw new LogHeadError(HEAD_MISSING);
    for (let i = 0; i < n; i += 1) {
      const id = leafId(entry.leaves, i);
      if (this.open === null) this.open = { entry: entry.key, offset: i, minId: id, maxId: id };
      else if (idBelow(id, this.open.minId)) this.open.minId = id;
      else if (idBelow(this.open.maxId, id)) this.open.maxId = id;
      const open = this.open;
      this.frontier.push(leafHashAt(entry.leaves, i), (height, hash, first) => {
        if (height !== BLOCK_HEIGHT) return;
        const { minId, maxId, ...start } = open;
        blocks.push({ index: first / BLOCK_LEAVES, hash: hash.toString('hex'), start, minId, maxId });
      });
      if (this.frontier.size % BLOCK_LEAVES === 0) this.open = null;
    }
    return blocks;
  }

  end(mark: string): LogHead {
    const fields = {
      size: this.frontier.size,
      root: this.frontier.root().toString('hex'),
      subtrees: this.frontier.subtrees.map((h) => h.toString('hex')),
      mark,
      open: this.open === null ? null : { ...this.open },
    };
    return { ...fields, mac: logHeadMac(this.key, fields) };
  }
}
