/**
 * A set of stored event ids (positive integers) as a sparse bitmap: memory grows with the
 * span of the ids present (one bit each, in chunks of 32,768), not with a hash table's entry
 * per id. Ids beyond 2^53 (the contract allows up to 2^63 - 1) go to a plain set.
 */
export class IdSet {
  private readonly chunks = new Map<number, Uint32Array>();
  private readonly large = new Set<string>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `id`; false when it was there already. */
  add(id: string): boolean {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n < 0) {
      if (this.large.has(id)) return false;
      this.large.add(id);
      this.count += 1;
      return true;
    }
    return this.addNumber(n);
  }

  /** `add(String(n))` for a safe non-negative integer `n`, without the string. */
  addNumber(n: number): boolean {
    const key = Math.floor(n / 32768);
    let chunk = this.chunks.get(key);
    if (chunk === undefined) {
      chunk = new Uint32Array(1024);
      this.chunks.set(key, chunk);
    }
    const word = (n % 32768) >>> 5;
    const bit = 1 << (n & 31);
    if (((chunk[word] as number) & bit) !== 0) return false;
    chunk[word] = (chunk[word] as number) | bit;
    this.count += 1;
    return true;
  }

  has(id: string): boolean {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n < 0) return this.large.has(id);
    const chunk = this.chunks.get(Math.floor(n / 32768));
    return chunk !== undefined && ((chunk[(n % 32768) >>> 5] as number) & (1 << (n & 31))) !== 0;
  }

  /** Every id of this set that `other` lacks, in ascending order (ids beyond 2^53 last). */
  *missingFrom(other: IdSet): Generator<string> {
    for (const key of [...this.chunks.keys()].sort((a, b) => a - b)) {
      const chunk = this.chunks.get(key) as Uint32Array;
      const theirs = other.chunks.get(key);
      for (let word = 0; word < 1024; word += 1) {
        // Word by word: only the ids the other set lacks become strings.
        const bits = (chunk[word] as number) & ~(theirs === undefined ? 0 : (theirs[word] as number));
        if (bits === 0) continue;
        for (let bit = 0; bit < 32; bit += 1) {
          if ((bits & (1 << bit)) !== 0) yield String(key * 32768 + word * 32 + bit);
        }
      }
    }
    for (const id of this.large) if (!other.has(id)) yield id;
  }
}
