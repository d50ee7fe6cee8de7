import { LogFolder, LogHeadError } from '../audit/log-seal';
import type { ConsentLogger } from '../options';
import type { LogHead } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import { raisedAs } from './nothing-to-write';

// How long after a write the log is sealed: writes that arrive meanwhile share the seal.
export const SEAL_DELAY_MS = 1000;
// The waits before the seal at start is tried again, while the log has no head.
const START_RETRY_MS = [200, 1000];

/**
 * Folds what writers appended to the global log into its tree: soon after writes (debounced,
 * in the background, never on a request's path), and at once before a checkpoint, a receipt
 * or a verification. One seal at a time in this process; the tracker's lock orders seals
 * across processes.
 */
export class LogSealer {
  private timer: NodeJS.Timeout | null = null;
  /** The seal running now, and the one queued behind it. */
  private current: Promise<LogHead | null> | null = null;
  private queued: Promise<LogHead | null> | null = null;
  private stopped = false;
  /**
   * Whether the next seal may start the log from entries without a head (see `LogFolder`): only
   * after a seal that stored no head, which a tracker that keeps none for an empty log does (the
   * tracker contract asks for one); its first entries then start the log, in this process.
   */
  private startsLog = false;

  constructor(
    private readonly tracker: Pick<ConsentTracker, 'sealLog' | 'logHead'>,
    private readonly key: () => Buffer,
    private readonly logger: ConsentLogger,
    private readonly delayMs = SEAL_DELAY_MS,
  ) {}

  /**
   * Seals everything appended so far. A seal in progress may have started before the caller's
   * write committed, so this one runs after it (callers that ask meanwhile share it). Resolves
   * to the stored head.
   *
   * @throws the tracker's failure; a head that fails its check is also logged.
   */
  seal(): Promise<LogHead | null> {
    if (this.queued !== null) return this.queued;
    if (this.current === null) return this.start();
    const queued = this.current.catch(() => undefined).then(() => {
      this.queued = null;
      return this.start();
    });
    this.queued = queued;
    return queued;
  }

  private start(): Promise<LogHead | null> {
    const run = this.tracker.sealLog(new LogFolder(this.key(), this.startsLog)).then(
      (head) => {
        this.startsLog = head === null;
        return head;
      },
      (error: unknown) => {
        if (raisedAs(error, LogHeadError)) {
          this.logger.error('express-consent: the global log cannot be sealed: its head was changed or deleted without the secret; run verify()', error);
        }
        throw error;
      },
    );
    this.current = run;
    const clear = () => {
      if (this.current === run) this.current = null;
    };
    run.then(clear, clear);
    return run;
  }

  /**
   * The seal at start: a new store's empty log gets its head, before any write appends to it (a
   * log with entries and no head has lost it, see `LogFolder`), so a seal that fails while there
   * is no head is tried again, then rejects. One that fails on a log with a head, or where not
   * even the head can be read after the tries (a slow database), is told through `logger.warn`
   * and left to the next seal (a long one goes on in the background); a head refused as changed
   * or deleted is logged, and `verify()` reports it.
   */
  async sealAtStart(retryMs: readonly number[] = START_RETRY_MS): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.seal();
        return;
      } catch (error) {
        if (raisedAs(error, LogHeadError)) return;
        // Whether the log has a head; undefined when even that cannot be read (a slow or failing database).
        const head = await this.tracker.logHead().then((h) => h !== null, () => undefined);
        const wait = retryMs[attempt];
        if (head === true || (head === undefined && wait === undefined)) {
          this.logger.warn(`express-consent: the global log is not sealed yet (${String(error)}); it is sealed after the next write and before verify(), checkpoints and receipts`);
          return;
        }
        if (wait === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Asks for a seal soon; repeated calls before it runs share it. */
  soon(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.seal().catch((error: unknown) => {
        if (!raisedAs(error, LogHeadError)) {
          this.logger.error('express-consent: sealing the global log failed; it is retried after the next write', error);
        }
      });
    }, this.delayMs);
    this.timer.unref();
  }

  /** Cancels a pending seal and waits for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([this.current?.catch(() => undefined), this.queued?.catch(() => undefined)]);
  }
}
