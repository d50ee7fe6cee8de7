/**
 * The hashes of a chain's most recent events by id, as a `Map` that drops its oldest entry
 * before a set once it holds `limit` (which `ChainVerifier` reads only when an event's
 * predecessor is out of place). Most chains have fewer events than that: their entries are
 * kept in two arrays, searched from the newest, and only a chain that goes past the limit
 * makes the map, from the same sets in the same order. The arrays are reused chain after
 * chain, where a map per chain was most of the garbage a verification made. Pure.
 */
export class RecentHashes {
  private readonly ids: string[] = [];
  private readonly hashes: string[] = [];
  private map: Map<string, string> | null = null;

  constructor(private readonly limit: number) {}

  /** Forgets every entry (a new chain). */
  clear(): void {
    this.ids.length = 0;
    this.hashes.length = 0;
    this.map = null;
  }

  set(id: string, hash: string): void {
    if (this.map === null && this.ids.length < this.limit) {
      // Fewer sets than the limit: the map would not have dropped anything yet.
      this.ids.push(id);
      this.hashes.push(hash);
      return;
    }
    if (this.map === null) {
      this.map = new Map();
      for (let i = 0; i < this.ids.length; i += 1) this.put(this.ids[i] as string, this.hashes[i] as string);
      this.ids.length = 0;
      this.hashes.length = 0;
    }
    this.put(id, hash);
  }

  /** The hash last set for `id`, while it is among the recent ones. */
  get(id: string): string | undefined {
    if (this.map !== null) return this.map.get(id);
    for (let i = this.ids.length - 1; i >= 0; i -= 1) if (this.ids[i] === id) return this.hashes[i];
    return undefined;
  }

  private put(id: string, hash: string): void {
    const map = this.map as Map<string, string>;
    if (map.size >= this.limit) map.delete(map.keys().next().value as string);
    map.set(id, hash);
  }
}

/**
 * Values noted for items before they are looked up, in the order they are looked up (pages
 * checked ahead, then walked in order): a queue instead of a map keyed by the items, which
 * allocated and rehashed for every event. An item looked up out of turn, or never noted, has
 * no value (the caller then computes it).
 */
export class InTurn<T extends object, V> {
  private items: Array<T | undefined> = [];
  private values: Array<V | undefined> = [];
  private next = 0;

  add(item: T, value: V): void {
    this.items.push(item);
    this.values.push(value);
  }

  /** The value noted for `item` when it is the next one noted; undefined otherwise. */
  take(item: T): V | undefined {
    if (this.next >= this.items.length || this.items[this.next] !== item) return undefined;
    const value = this.values[this.next];
    this.items[this.next] = undefined;
    this.values[this.next] = undefined;
    this.next += 1;
    if (this.next === this.items.length) {
      this.items = [];
      this.values = [];
      this.next = 0;
    }
    return value;
  }
}
