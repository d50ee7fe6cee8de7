import { performance } from 'node:perf_hooks';

/*
 * Long synchronous stretches starve the reads a scan sends ahead. A `sqlite3` query makes
 * progress only when the main thread runs its callbacks (its statement is prepared, stepped and
 * read back in several hops through the thread pool), and Knex hands a query to its connection a
 * few promise steps after it is built: a page checked in one stretch leaves the next page's read
 * waiting until the check ends, so reading and checking take turns instead of overlapping.
 * Giving the event loop a turn about every millisecond lets the read go on meanwhile.
 */

/** How long a stretch runs before it gives the event loop a turn. */
const STRETCH_MS = 1;
/** Items between two looks at the clock. */
const LOOK_EVERY = 32;

/** A turn of the event loop: I/O callbacks run before it resolves. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Counts the items of a long synchronous stretch and says when it is time to give the event loop
 * a turn (`if (turns.due()) await nextTurn();`): no promise per item, one look at the clock every
 * few dozen items.
 */
export class TurnTaker {
  private count = 0;
  private since = performance.now();

  /**
   * True about once per millisecond of work; the stretch then awaits `nextTurn()`. A stretch
   * that works in chunks counts each chunk's `items`.
   */
  due(items = 1): boolean {
    this.count += items;
    if (this.count < LOOK_EVERY) return false;
    this.count = 0;
    const now = performance.now();
    if (now - this.since < STRETCH_MS) return false;
    this.since = now;
    return true;
  }
}
