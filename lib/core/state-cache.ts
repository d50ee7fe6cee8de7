import type { CurrentRecord } from '../tracker/records';

interface Entry {
  records: CurrentRecord[];
  loadedAt: number;
  /** A read to replace this entry was started. */
  refreshing: boolean;
}

// An entry read this long ago (as a share of ttlMs) is re-read in the background on its next hit.
const REFRESH_AT = 0.75;

const noRefresh = (): void => undefined;

/**
 * A bounded, per-instance cache of subjects' current records, keyed by pseudonym. States are
 * derived from the records at every read, so an entry can never outlive a grant's `expiresAt`;
 * `ttlMs` bounds how long a change made elsewhere can go unseen.
 *
 * A write invalidates its key once it has committed, and a read that started before stores
 * nothing, so a slow read can never put back a state that a write has replaced.
 *
 * A hit on an entry in the last quarter of its lifetime calls `refresh(key)` once for that
 * entry: the owner reads the subject again in the background and stores it, so a subject in steady use never expires and
 * never pays a read on the request path, while no entry is ever served past `ttlMs`.
 */
export class StateCache {
  private readonly entries = new Map<string, Entry>();
  private readonly generations = new Map<string, number>();
  private epoch = 0;

  private readonly refreshAfterMs: number;

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly refresh: (key: string) => void = noRefresh,
  ) {
    this.refreshAfterMs = ttlMs * REFRESH_AT;
  }

  get(key: string, now: number): CurrentRecord[] | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now - entry.loadedAt >= this.ttlMs || now < entry.loadedAt) {
      this.entries.delete(key);
      return undefined;
    }
    // Map order is insertion order: re-inserting marks the entry as recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (!entry.refreshing && now - entry.loadedAt >= this.refreshAfterMs) {
      entry.refreshing = true;
      this.refresh(key);
    }
    return entry.records;
  }

  /** A number that changes whenever `key` is invalidated (or the whole cache cleared). */
  generation(key: string): number {
    return this.epoch * 2 ** 32 + (this.generations.get(key) ?? 0);
  }

  /** Stores records read when the key's generation was `generation`, unless a write came since. */
  set(key: string, records: CurrentRecord[], loadedAt: number, generation: number): void {
    if (this.generation(key) !== generation) return;
    this.entries.delete(key);
    this.entries.set(key, { records, loadedAt, refreshing: false });
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Forgets a key and fences off reads that started before. */
  invalidate(key: string): void {
    this.entries.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    // Generations only matter while a read may be in flight; keep the map bounded too.
    if (this.generations.size > this.max * 2) this.clear();
  }

  clear(): void {
    this.entries.clear();
    this.generations.clear();
    this.epoch += 1;
  }
}
