/**
 * A small bounded cache of subject id → pseudonym, least recently used out first. The guard
 * derives the same pseudonym (an HMAC) for the same signed-in person on every request;
 * remembering the recently seen ones saves that hash on the hot path. It holds raw subject
 * ids in memory only, never on disk.
 *
 * Two generations instead of a reordered Map: a hit in the current generation costs one
 * lookup; a hit in the previous one moves the entry forward; when the current generation is
 * full it becomes the previous one, dropping the entries nobody used for a whole generation.
 * At most `max` entries are kept. The value is the pseudonym, or an object that holds it (the
 * engine keeps a link to the subject's state-cache entry beside it).
 */
export class PseudonymCache<V = string> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();
  private readonly half: number;

  constructor(
    max: number,
    private readonly derive: (subjectId: string) => V,
  ) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get(subjectId: string): V {
    const hit = this.current.get(subjectId);
    if (hit !== undefined) return hit;
    const pseudonym = this.previous.get(subjectId) ?? this.derive(subjectId);
    this.current.set(subjectId, pseudonym);
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    return pseudonym;
  }

  /** Forgets one subject (erasure), or everything. */
  forget(subjectId?: string): void {
    if (subjectId === undefined) {
      this.current.clear();
      this.previous.clear();
      return;
    }
    this.current.delete(subjectId);
    this.previous.delete(subjectId);
  }

  /** Entries held (at most `max`). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
