import type { Knex } from 'knex';
import { openSqlitePages, type PageRunner } from './sqlite-pages';

/**
 * When store-wide scans read on connections of their own. Internal: tests lower `minRows`;
 * `opened` counts the runners opened.
 */
export const pageReaders = {
  /** Rows read the usual way first: a small store is scanned before connections would open. */
  minRows: 16_384,
  /** A runner left without a page this long is closed (another scan opens one again). */
  idleMs: 10_000,
  opened: 0,
};

/**
 * The runner of a tracker's store-wide scans: opened once its pages have read more rows than
 * a small store holds, closed when idle and with the tracker. A page it cannot run is read the
 * usual way (`null` from `runner()`), so an answer never depends on it.
 */
export class PageReader {
  private rows = 0;
  private opening: Promise<PageRunner | null> | null = null;
  private idle: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly knex: Knex,
    private readonly open: (knex: Knex) => Promise<PageRunner | null> = openSqlitePages,
  ) {}

  /** Counts the rows of a page read. */
  read(rows: number): void {
    this.rows += rows;
  }

  /** The runner for the next page, or null (a small store so far, none to have, or closed). */
  async runner(): Promise<PageRunner | null> {
    if (this.closed || this.rows < pageReaders.minRows) return null;
    this.opening ??= this.open(this.knex).then(
      (runner) => {
        if (runner !== null) pageReaders.opened += 1;
        return runner;
      },
      () => null,
    );
    const runner = await this.opening;
    if (runner !== null && !runner.alive) {
      void this.drop();
      return null;
    }
    if (runner !== null) this.touch();
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

  private async drop(): Promise<void> {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    const opening = this.opening;
    this.opening = null;
    const runner = await opening?.catch(() => null);
    await runner?.close();
  }
}
