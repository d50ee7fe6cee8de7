import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startThread, threadScript } from '../audit/thread';
import type { PageRequest } from './page-worker';
import type { PageRunner } from './page-runner';

/** Internal: where the thread's script is (tests point it at one that cannot start). */
export const pageThreads = {
  script: threadScript('page-worker', typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url),
};

/** A read-only connection through `better-sqlite3` on a thread of its own: the driver blocks the thread it runs on. */
export class ThreadPages implements PageRunner {
  private readonly waiting = new Map<number, { resolve: (page: unknown) => void; reject: (error: Error) => void }>();
  private ids = 0;
  alive = true;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (answer: { id: number; page?: unknown; error?: string }) => {
      const waiting = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      if (answer.error !== undefined) waiting?.reject(new Error(answer.error));
      else waiting?.resolve(answer.page);
    });
    const stop = (): void => { this.stop(new Error('the page thread stopped')); };
    worker.on('error', stop);
    worker.on('messageerror', () => { stop(); void worker.terminate(); });
    worker.on('exit', stop);
    // An idle thread does not keep the process running (the reader closes it when idle). After
    // the listeners: adding a 'message' listener refs the thread again.
    worker.unref();
  }

  /** A thread on the file at `filename`, once it has opened it (rejects when it could not). */
  static start(script: URL, data: Record<string, unknown>): Promise<ThreadPages> {
    const worker = startThread(script, data);
    return new Promise((resolve, reject) => {
      const failed = (error: unknown): void => {
        void worker.terminate();
        reject(error instanceof Error ? error : new Error('the page thread did not start'));
      };
      worker.once('error', failed);
      worker.once('exit', failed);
      worker.once('message', (first: { opened?: boolean }) => {
        worker.off('error', failed);
        worker.off('exit', failed);
        if (first.opened === true) resolve(new ThreadPages(worker));
        else failed(new Error('the page thread did not open the database'));
      });
    });
  }

  page(sql: string, bindings: readonly unknown[]): Promise<unknown> {
    if (!this.alive) return Promise.reject(new Error('the page thread stopped'));
    const id = (this.ids += 1);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ id, sql, bindings } satisfies PageRequest);
      } catch (error) {
        this.waiting.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  async close(): Promise<void> {
    this.stop(new Error('closed'));
    await this.worker.terminate();
  }

  private stop(error: Error): void {
    this.alive = false;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}

/**
 * The file of the module `exports` was loaded from, found among the modules loaded so far: a
 * thread must load the very copy of `better-sqlite3` the application's Knex uses (two copies
 * of SQLite in one process would release each other's locks on the file).
 */
export function loadedFrom(exports: unknown): string | null {
  const cache = createRequire(join(process.cwd(), 'noop.js')).cache;
  for (const [file, module] of Object.entries(cache)) if (module?.exports === exports) return file;
  return null;
}
