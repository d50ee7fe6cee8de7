/**
 * Keyset pages read ahead: the next page's query is sent as soon as a page arrives, while fewer
 * than `depth` pages wait for the caller (and otherwise as soon as the caller takes one), so
 * the database (the `sqlite3` thread pool, or the PostgreSQL server) reads while the caller is
 * still checking the pages before. At most `depth` pages wait, besides the one the caller holds.
 *
 * `read(after)` returns up to `limit` items after the key (the first page for undefined); a
 * shorter page is the last. A read that fails fails the stream once the pages before it are taken.
 */
export function pagesAhead<T, K>(
  read: (after: K | undefined) => Promise<T[]>,
  keyOf: (last: T) => K,
  limit: number,
  depth = 1,
): AsyncGenerator<T[]> {
  // A shorter page is the last.
  return keyedPagesAhead(read, (page) => ({ empty: page.length === 0, next: page.length < limit ? undefined : keyOf(page[page.length - 1] as T) }), depth);
}

/**
 * `pagesAhead` for pages of any form: `sized(page)` says whether it is empty (it is left out)
 * and where the next page starts (undefined after the last page).
 */
export async function* keyedPagesAhead<P, K>(
  read: (after: K | undefined) => Promise<P>,
  sized: (page: P) => { empty: boolean; next: K | undefined },
  depth = 1,
): AsyncGenerator<P> {
  const ready: P[] = [];
  // Changed by the reads' callbacks: `reading` while a read is out; `nextKey` once a full page
  // named where the next read starts and none was sent yet; `done` after the last page.
  // `stopped` once the caller has stopped: a read still out then sends no other.
  const at: { reading: Promise<void> | null; nextKey: { after: K } | null; done: boolean; stopped: boolean; failure: { error: unknown } | null } =
    { reading: null, nextKey: null, done: false, stopped: false, failure: null };
  const send = (after: K | undefined): void => {
    at.nextKey = null;
    // A failure is kept for the caller's turn: if it stops first, it concerns no one.
    const failed = (error: unknown): void => {
      at.reading = null;
      at.failure = { error };
    };
    at.reading = read(after).then((page) => {
      at.reading = null;
      try {
        const { empty, next } = sized(page);
        if (!empty) ready.push(page);
        if (next === undefined) at.done = true;
        else if (at.stopped) return;
        else if (ready.length < depth) send(next);
        else at.nextKey = { after: next };
      } catch (error) {
        failed(error);
      }
    }, failed);
  };
  send(undefined);
  try {
    for (;;) {
      const page = ready.shift();
      if (page !== undefined) {
        if (at.nextKey !== null && at.reading === null) send(at.nextKey.after);
        yield page;
      } else if (at.failure !== null) {
        throw at.failure.error;
      } else if (at.done) {
        return;
      } else {
        await at.reading;
      }
    }
  } finally {
    at.stopped = true;
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
