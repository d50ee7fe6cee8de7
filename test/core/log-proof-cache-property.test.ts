import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { encodeLeaves, LEAF_BYTES } from '../../lib/audit/log-leaf';
import { BLOCK_LEAVES } from '../../lib/audit/log-seal';
import { leafHash, rootFromPath, rootOf } from '../../lib/audit/merkle';
import { inclusionOf, SubtreeCache, type LogReader } from '../../lib/core/log-proof';
import type { LogBlock, LogHead } from '../../lib/tracker/log-records';

/** A log of `n` leaves kept in memory, read as a tracker's logBlocks and logLeaves would be. */
class FakeLog implements LogReader {
  leaves: Buffer;
  hashes: Buffer[];
  blocks: LogBlock[] = [];
  /** Optional pause before each block read (lets other proofs run meanwhile). */
  pause: () => Promise<void> = async () => {};

  constructor(n: number, salt = '') {
    const events = Array.from({ length: n }, (_, i) => ({ id: String(i + 1), hash: createHash('sha256').update(`${salt}${String(i)}`).digest('hex') }));
    this.leaves = encodeLeaves(events);
    this.hashes = events.map((_, i) => leafHash(this.leaves.subarray(i * LEAF_BYTES, (i + 1) * LEAF_BYTES)));
    for (let b = 0; (b + 1) * BLOCK_LEAVES <= n; b += 1) {
      this.blocks.push({ index: b, hash: rootOf(this.hashes.slice(b * BLOCK_LEAVES, (b + 1) * BLOCK_LEAVES)).toString('hex'), start: { entry: String(b * BLOCK_LEAVES), offset: 0 }, minId: String(b * BLOCK_LEAVES + 1), maxId: String((b + 1) * BLOCK_LEAVES) });
    }
  }

  head(size: number): LogHead {
    const first = size - (size % BLOCK_LEAVES);
    const open = first === size ? null : { entry: String(first), offset: 0, minId: String(first + 1), maxId: String(size) };
    return { size, root: rootOf(this.hashes.slice(0, size)).toString('hex'), subtrees: [], mark: '', open, mac: '' };
  }

  id(i: number): { id: string; hash: string } {
    return { id: String(i + 1), hash: this.leaves.toString('hex', i * LEAF_BYTES + 8, (i + 1) * LEAF_BYTES) };
  }

  async logBlocks(query: { containing?: string; from?: number; limit: number }): Promise<LogBlock[]> {
    await this.pause();
    if (query.containing !== undefined) return this.blocks.filter((b) => Number(b.minId) <= Number(query.containing) && Number(query.containing) <= Number(b.maxId)).slice(0, query.limit);
    return this.blocks.slice(query.from ?? 0, (query.from ?? 0) + query.limit);
  }

  async logLeaves(query: { from: { entry: string; offset: number }; count: number }): Promise<Buffer> {
    const at = Number(query.from.entry) + query.from.offset;
    return this.leaves.subarray(at * LEAF_BYTES, Math.min(this.hashes.length, at + query.count) * LEAF_BYTES);
  }
}

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (path: Buffer[] | undefined): string[] | undefined => path?.map((p) => p.toString('hex'));

describe('audit paths with kept subtrees (property)', () => {
  it('equal those built from the store alone, for growing logs and any leaf', async function () {
    this.timeout(60_000);
    const log = new FakeLog(70_000);
    const next = random(9162);
    const cache = new SubtreeCache();
    const sizes = [1, 2, 255, 256, 257, 4095, 4096, 4097, 8192, 16 * 4096, 16 * 4096 + 1, 65_535];
    for (let size = 1; size < 70_000; size += Math.floor(next() * 3000) + 1) sizes.push(size);
    sizes.sort((x, y) => x - y);
    for (const size of sizes) {
      const head = log.head(size);
      const complete = size - (size % BLOCK_LEAVES);
      const picks = [0, size - 1, Math.floor(next() * size), Math.max(0, complete - 1), Math.min(size - 1, complete)];
      for (const index of picks) {
        const { id, hash } = log.id(index);
        const fresh = await inclusionOf(log, head, id, hash);
        const kept = await inclusionOf(log, head, id, hash, cache);
        expect(kept?.leafIndex, `${String(index)} of ${String(size)}`).to.equal(index);
        expect(hex(kept?.path), `${String(index)} of ${String(size)}`).to.deep.equal(hex(fresh?.path));
        expect(rootFromPath(index, size, kept?.leafHash as Buffer, kept?.path as Buffer[])?.toString('hex')).to.equal(head.root);
      }
    }
  });

  it('is not thrown off by another proof clearing the cache while it reads the blocks (a restored store)', async () => {
    const old = new FakeLog(20_000, 'old');
    const log = new FakeLog(20_000, 'new');
    const cache = new SubtreeCache();
    // Kept from the history before the restore: subtrees [4096, 8192) and [8192, 16384).
    const o = old.id(10);
    await inclusionOf(old, old.head(20_000), o.id, o.hash, cache);
    expect(cache.get(8192, 16_384)).to.not.equal(undefined);
    // Proof B takes the kept subtrees and waits for its blocks while proof A, on the restored
    // store, fails its root check, clears the cache and builds its path again.
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: LogReader = {
      logLeaves: (query) => log.logLeaves(query),
      logBlocks: async (query) => {
        if (query.from !== undefined) await gate;
        return log.logBlocks(query);
      },
    };
    const b = log.id(19_000);
    const pb = inclusionOf(slow, log.head(20_000), b.id, b.hash, cache);
    const a = log.id(10);
    const pa = await inclusionOf(log, log.head(20_000), a.id, a.hash, cache);
    expect(pa?.leafIndex).to.equal(10);
    release();
    const proof = await pb;
    expect(proof?.leafIndex).to.equal(19_000);
    expect(rootFromPath(19_000, 20_000, proof?.leafHash as Buffer, proof?.path as Buffer[])?.toString('hex')).to.equal(log.head(20_000).root);
  });
});
