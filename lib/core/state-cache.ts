import { allowedAt } from '../state/allowed-window';
import type { CurrentRecord } from '../tracker/records';

/** A cache entry (opaque outside this module). */
export interface CacheEntry {
  records: CurrentRecord[];
  /** `allowedWindows` of the records: what the guard reads on a hit. */
  windows: number[];
  /** When a version registered ahead starts: the windows are computed again from then on. */
  windowsUntil: number;
  loadedAt: number;
  /** A read to replace this entry was started. */
  refreshing: boolean;
  /** Served since it was stored or last spared from eviction (its second chance). */
  used: boolean;
  /** No longer in the cache (expired, replaced, invalidated, evicted or cleared). */
  dropped: boolean;
}

/**
 * Where a caller remembers a key's entry between hits (`allowsVia`): an entry found through it
 * is used only while it is still in the cache, so the link can never serve a dropped state.
 */
export interface CacheLink {
  readonly key: string;
  entry: CacheEntry | null;
}

// An entry read this long ago (as a share of ttlMs) is re-read in the background on its next hit.
const REFRESH_AT = 0.75;

const noRefresh = (): void => undefined;

// A dropped entry may stay reachable from a link until the subject's next request: mark it,
// and let go of its records (an erased subject's among them) at once.
const release = (entry: CacheEntry): void => {
  entry.dropped = true;
  entry.records = [];
  entry.windows = [];
};
const noWindows = (): number[] => [];

/**
 * A bounded, per-instance cache of subjects' current records, keyed by pseudonym. States are
 * derived from the records at every read (or compared with the windows computed from them
 * when they were stored), so an entry can never outlive a grant's `expiresAt`.
 *
 * An entry is served only while it is known to be current as of at most `ttlMs` ago: either it
 * was read within `ttlMs`, or the store's change feed confirmed within `ttlMs` (`synced`) that
 * every change committed before has been reported (and has invalidated its key). With a
 * healthy feed entries therefore stay until something changes; when the feed stops
 * confirming, entries fall back to their own lifetime.
 *
 * A write invalidates its key once it has committed, and a read that started before stores
 * nothing, so a slow read can never put back a state that a write has replaced. Only keys with
 * a read in flight remember their invalidation (until that read ends): writes, however many
 * subjects they touch, never cost the other entries their place.
 *
 * Without a confirming feed, a hit on an entry in the last quarter of its lifetime calls
 * `refresh(key)` once for that entry: the owner reads the subject again in the background and
 * stores it, so a subject in steady use never expires and never pays a read on the request path.
 */
export class StateCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Reads in flight by key, and the latest invalidation of the key while one was. */
  private readonly reading = new Map<string, { count: number; fence: number }>();
  /** Numbers read tickets, invalidations and clears in the order they happened. */
  private sequence = 0;
  private clearedAt = 0;
  /** When the change feed last confirmed that every earlier change was reported. */
  private syncedAt = -Infinity;

  private readonly refreshAfterMs: number;

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly refresh: (key: string) => void = noRefresh,
    private readonly windowsOf: (records: CurrentRecord[]) => number[] = noWindows,
    private readonly windowsUntil: () => number = () => Infinity,
  ) {
    this.refreshAfterMs = ttlMs * REFRESH_AT;
  }

  get(key: string, now: number): CurrentRecord[] | undefined {
    return this.fresh(key, now)?.records;
  }

  /**
   * Whether every listed requirement (indexes in registry order) is allowed at `now` for a
   * request without the GPC signal, from the windows of `link.key`'s entry; undefined without a
   * fresh entry. A hit like `get`: it marks the entry used and may start its refresh.
   *
   * The entry is reached through the link while it is still in the cache, and looked up by key
   * (and recorded in the link) otherwise: the guard finds the link with the subject's
   * pseudonym, so a hit costs no second lookup.
   */
  allowsVia(link: CacheLink, now: number, indexes: readonly number[]): boolean | undefined {
    let entry = link.entry;
    if (entry === null || entry.dropped) {
      entry = this.entries.get(link.key) ?? null;
      link.entry = entry;
    }
    if (entry === null || !this.isFresh(link.key, entry, now)) return undefined;
    // A version registered ahead started: the records still hold, the rules they meet changed.
    if (now >= entry.windowsUntil) {
      entry.windows = this.windowsOf(entry.records);
      entry.windowsUntil = this.windowsUntil();
    }
    return allowedAt(entry.windows, indexes, now);
  }

  private fresh(key: string, now: number): CacheEntry | undefined {
    const entry = this.entries.get(key);
    return entry && this.isFresh(key, entry, now) ? entry : undefined;
  }

  /** A hit on `key`'s entry: drops it past its lifetime, else marks it used and may refresh it. */
  private isFresh(key: string, entry: CacheEntry, now: number): boolean {
    // The feed vouches for every entry stored before its last confirmation (and the ones
    // stored since are younger still): nothing to re-read while it keeps confirming.
    if (now - this.syncedAt < this.ttlMs && now >= entry.loadedAt) {
      if (!entry.used) entry.used = true;
      return true;
    }
    if (now - entry.loadedAt >= this.ttlMs || now < entry.loadedAt) {
      this.drop(key);
      return false;
    }
    // Written only when it changes: most hits then leave the entry's memory untouched.
    if (!entry.used) entry.used = true;
    if (!entry.refreshing && now - entry.loadedAt >= this.refreshAfterMs) {
      entry.refreshing = true;
      this.refresh(key);
    }
    return true;
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    release(entry);
    this.entries.delete(key);
  }

  /**
   * Starts a read of `key` from the store: returns the ticket to `set` its result with. Call
   * `readDone(key)` once the read has ended, whether it stored anything or not.
   */
  beginRead(key: string): number {
    const reading = this.reading.get(key);
    if (reading) reading.count += 1;
    else this.reading.set(key, { count: 1, fence: 0 });
    return (this.sequence += 1);
  }

  /** A read started with `beginRead(key)` has ended. */
  readDone(key: string): void {
    const reading = this.reading.get(key);
    if (reading && (reading.count -= 1) <= 0) this.reading.delete(key);
  }

  /**
   * Reads `key`'s records with `read` and stores them as loaded at `now` (unless the key was
   * invalidated meanwhile, see `set`); resolves to what was read.
   */
  async load(key: string, now: number, read: () => Promise<CurrentRecord[]>): Promise<CurrentRecord[]> {
    const ticket = this.beginRead(key);
    try {
      const records = await read();
      this.set(key, records, now, ticket);
      return records;
    } finally {
      this.readDone(key);
    }
  }

  /**
   * Stores records read under `ticket`, unless the key was invalidated (or the cache cleared)
   * since that read began.
   */
  set(key: string, records: CurrentRecord[], loadedAt: number, ticket: number): void {
    if (ticket <= this.clearedAt || ticket < (this.reading.get(key)?.fence ?? 0)) return;
    this.drop(key);
    this.entries.set(key, { records, windows: this.windowsOf(records), windowsUntil: this.windowsUntil(), loadedAt, refreshing: false, used: false, dropped: false });
    if (this.entries.size > this.max) this.evictOne();
  }

  /**
   * Drops the oldest entry not served since it was stored or last spared; the served ones it
   * passes go to the back with the mark cleared (second chance). A hit then only sets a flag
   * instead of moving its entry to the end of the Map, which wrote to the table on every
   * guarded request and made V8 rebuild it whenever its free slots ran out.
   */
  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      if (!entry.used) { this.drop(key); return; }
      this.entries.delete(key);
      entry.used = false;
      this.entries.set(key, entry);
    }
  }

  /** Forgets a key and fences off reads of it that started before. */
  invalidate(key: string): void {
    this.drop(key);
    const reading = this.reading.get(key);
    if (reading) reading.fence = this.sequence += 1;
  }

  /**
   * The change feed confirms, at `now`, that every change committed before has been reported:
   * entries are served without re-reading until `ttlMs` after the last confirmation.
   */
  synced(now: number): void {
    this.syncedAt = now;
  }

  /** The change feed broke: entries fall back to their own lifetime (`ttlMs` since read) at once. */
  unsynced(): void {
    this.syncedAt = -Infinity;
  }

  clear(): void {
    for (const entry of this.entries.values()) release(entry);
    this.entries.clear();
    this.clearedAt = this.sequence += 1;
  }
}
