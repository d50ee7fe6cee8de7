import type { PageRunner } from './page-runner';

/**
 * When store-wide scans read on connections of their own. Internal: tests lower `minRows`;
 * `opened` counts the runners opened.
 */
export const pageReaders = {
  /** Rows a tracker's scans read the usual way within `idleMs` of each other before the runner opens: a small store is done first. */
  minRows: 16_384,
  /** A runner left without a page this long is closed (another scan opens one again). */
  idleMs: 10_000,
  opened: 0,
};

/**
 * The runner of a tracker's store-wide scans (and of `filterAllowed()`'s lookups, a batch of a
 * thousand subjects each): opened once its pages have read more rows than a
 * small store holds (without a pause of `idleMs`), closed when idle and with the tracker. A
 * page it cannot run is read the usual way (`null` from `runner()`), so an answer never
 * depends on it; a runner that stopped on its own (a thread that failed) is not opened again.
 */
export class PageReader {
  private rows = 0;
  private lastRead = 0;
  private opening: Promise<PageRunner | null> | null = null;
  private idle: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly open: () => Promise<PageRunner | null>) {}

  /** Counts the rows of a page read; a pause of `idleMs` starts the count again. */
  read(rows: number): void {
    const now = Date.now();
    if (now - this.lastRead > pageReaders.idleMs) this.rows = 0;
    this.lastRead = now;
    this.rows += rows;
  }

  /** The runner for the next page, or null (a small store so far, none to have, or closed). */
  async runner(): Promise<PageRunner | null> {
    if (this.closed || (this.opening === null && this.rows < pageReaders.minRows)) return null;
    this.opening ??= this.open().then(
      (runner) => {
        if (runner !== null) pageReaders.opened += 1;
        return runner;
      },
      () => null,
    );
    const runner = await this.opening;
    if (runner === null) return null;
    if (!runner.alive) {
      // Failed (or closed by `close()`): the usual way from now on.
      this.closed = true;
      return null;
    }
    this.touch();
    return runner;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drop();
  }

  /** (Re)starts the idle timer. */
  private touch(): void {
    if (this.idle !== null) this.idle.refresh();
    else this.idle = setTimeout(() => { void this.drop(); }, pageReaders.idleMs).unref();
  }

  /** Closes the runner (a scan after this opens another once it has read `minRows` again). */
  private async drop(): Promise<void> {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    const opening = this.opening;
    this.opening = null;
    this.rows = 0;
    const runner = await opening?.catch(() => null);
    await runner?.close();
  }
}
