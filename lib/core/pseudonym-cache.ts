/**
 * A small bounded LRU of subject id → pseudonym. The guard derives the same pseudonym (an
 * HMAC) for the same signed-in person on every request; remembering the recently seen ones
 * saves that hash on the hot path. It holds raw subject ids in memory only, never on disk.
 */
export class PseudonymCache {
  private readonly entries = new Map<string, string>();

  constructor(
    private readonly max: number,
    private readonly derive: (subjectId: string) => string,
  ) {}

  get(subjectId: string): string {
    const hit = this.entries.get(subjectId);
    if (hit !== undefined) {
      // Map order is insertion order: re-inserting marks the entry as recently used.
      this.entries.delete(subjectId);
      this.entries.set(subjectId, hit);
      return hit;
    }
    const pseudonym = this.derive(subjectId);
    this.entries.set(subjectId, pseudonym);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    return pseudonym;
  }

  /** Forgets one subject (erasure), or everything. */
  forget(subjectId?: string): void {
    if (subjectId === undefined) this.entries.clear();
    else this.entries.delete(subjectId);
  }

  get size(): number {
    return this.entries.size;
  }
}
