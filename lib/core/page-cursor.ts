/**
 * Keyset pages read one ahead: the next page's query is sent as soon as a page arrives, so the
 * database (the `sqlite3` thread pool, or the PostgreSQL server) reads it while the caller is
 * still checking the current one. At most two pages are held.
 *
 * `read(after)` returns up to `limit` items after the key (the first page for undefined); a
 * shorter page is the last.
 */
export async function* pagesAhead<T, K>(
  read: (after: K | undefined) => Promise<T[]>,
  keyOf: (last: T) => K,
  limit: number,
): AsyncGenerator<T[]> {
  let pending = read(undefined);
  for (;;) {
    const page = await pending;
    const last = page[page.length - 1];
    const more = last !== undefined && page.length >= limit;
    if (more) {
      pending = read(keyOf(last));
      // Awaited on the next turn; if the caller stops first, its failure concerns no one.
      pending.catch(() => undefined);
    }
    if (page.length > 0) yield page;
    if (!more) return;
  }
}

/**
 * The items of a stream of pages (`pick` of each), served from the current page without an
 * async generator's machinery per item: a listing of a million spends its time reading, not
 * queueing promises. `return()` stops the pages' reads too (a caller that stopped early).
 */
export function itemsOf<P, T>(pages: AsyncGenerator<P[]>, pick: (item: P) => T): AsyncIterator<T> {
  let page: P[] = [];
  let index = 0;
  const step = async (): Promise<IteratorResult<T>> => {
    while (index >= page.length) {
      const next = await pages.next();
      if (next.done) return { done: true, value: undefined };
      page = next.value;
      index = 0;
    }
    return { done: false, value: pick(page[index++] as P) };
  };
  return {
    next: () => (index < page.length ? Promise.resolve({ done: false, value: pick(page[index++] as P) }) : step()),
    return: async () => {
      await pages.return(undefined);
      return { done: true, value: undefined };
    },
  };
}

/**
 * A position in a stream of pages, stepped synchronously within a page: only crossing into
 * the next page awaits, so a merge over millions of items costs no promise per item.
 */
export class PageCursor<T> {
  private page: T[] = [];
  private index = 0;
  private done = false;

  constructor(private readonly pages: AsyncIterator<T[]>) {}

  /** The current item; undefined before `fill()`, after a step off a page, and at the end. */
  get value(): T | undefined {
    return this.page[this.index];
  }

  /** Steps to the next item; false when it lies on a page still to be read (call `fill()`). */
  step(): boolean {
    this.index += 1;
    return this.index < this.page.length;
  }

  /** Reads pages until there is a current item or the stream ends. */
  async fill(): Promise<void> {
    while (this.index >= this.page.length && !this.done) {
      const next = await this.pages.next();
      if (next.done) this.done = true;
      else {
        this.page = next.value;
        this.index = 0;
      }
    }
  }
}
