import { ConsentError, isConsentError } from '../errors';

/** The 429 `rate_limited` error for a refusal `waitMs` before its window ends. */
export function rateLimited(waitMs: number, what: string): ConsentError {
  const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  return new ConsentError('rate_limited', `${what}; retry in ${String(retryAfter)} s`, { extensions: { retryAfter } });
}

/**
 * Whether `error` refused a write for what the client sent (a 4xx `ConsentError`): nothing was
 * recorded. A storage failure (503) may have recorded the write and is not one.
 */
export function refusedInput(error: unknown): boolean {
  return isConsentError(error) && error.status >= 400 && error.status < 500;
}

/** Subjects whose current window a limiter remembers at most: bounded memory under any load. */
export const LIMITER_SUBJECTS = 50_000;

interface Window {
  start: number;
  count: number;
}

/**
 * Fixed-window counts of writes per key (a subject's pseudonym), in memory. Windows are kept
 * in the order they started (a key whose window restarts moves to the end), so when the map
 * is full the oldest go first: expired ones, and only then the longest-running live window
 * (that subject starts counting afresh). Pure apart from its own map: the clock is passed in.
 */
export class WriteLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly writes: number,
    private readonly windowMs: number,
    private readonly maxKeys: number = LIMITER_SUBJECTS,
  ) {}

  /** Subjects remembered now (at most `maxKeys`). */
  get size(): number {
    return this.windows.size;
  }

  /**
   * Counts one write of `key` at `now` when the window allows it and returns 0; otherwise
   * counts nothing and returns the milliseconds until the window ends.
   */
  take(key: string, now: number): number {
    let window = this.windows.get(key);
    // A clock set back starts a new window rather than extending the old one.
    if (window === undefined || now >= window.start + this.windowMs || now < window.start) {
      this.windows.delete(key);
      while (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= this.writes) return window.start + this.windowMs - now;
    window.count += 1;
    return 0;
  }

  /**
   * Gives back one write that `take(key, …)` counted and that recorded nothing (it was refused
   * for what the client sent), so refused requests cannot use up a budget. Its window keeps its
   * start.
   */
  giveBack(key: string): void {
    const window = this.windows.get(key);
    if (window !== undefined && window.count > 0) window.count -= 1;
  }
}
