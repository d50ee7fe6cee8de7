import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { HASH_WORDS, hexWords, leafHashWords, nodeHashWords, wordsHex } from '../../lib/audit/sha256-words';
import { TreeState } from '../../lib/audit/log-tree';
import { BLOCK_LEAVES } from '../../lib/audit/log-seal';
import { Frontier, leafHash } from '../../lib/audit/merkle';

const sha256 = (...parts: Buffer[]): string => createHash('sha256').update(Buffer.concat(parts)).digest('hex');

describe('SHA-256 of the log tree on words', () => {
  it('hashes leaves and nodes as node:crypto does', () => {
    const words = new Int32Array(3 * HASH_WORDS);
    for (let n = 0; n < 500; n += 1) {
      const leaves = randomBytes(120);
      const at = 40 * (n % 3);
      leafHashWords(leaves, at, words, 0);
      expect(wordsHex(words, 0)).to.equal(sha256(Buffer.from([0]), leaves.subarray(at, at + 40)));
      const left = randomBytes(32);
      const right = randomBytes(32);
      hexWords(left.toString('hex'), words, HASH_WORDS);
      hexWords(right.toString('hex'), words, 2 * HASH_WORDS);
      expect(wordsHex(words, HASH_WORDS)).to.equal(left.toString('hex'));
      // The result may overwrite an input.
      nodeHashWords(words, HASH_WORDS, 2 * HASH_WORDS, words, HASH_WORDS);
      expect(wordsHex(words, HASH_WORDS)).to.equal(sha256(Buffer.from([1]), left, right));
    }
  });

  it('gives the same roots, frontier and blocks as the Merkle tree of merkle.ts, at every size and from any snapshot', () => {
    const count = 3 * BLOCK_LEAVES + 37;
    const leaves = randomBytes(count * 40);
    const frontier = new Frontier();
    const blocks: Array<[number, string]> = [];
    const sizes = { sealedSize: 2 * BLOCK_LEAVES + 5, claimSize: 700 };
    let state = new TreeState(sizes);
    let sealedRoot = '';
    let claimedRoot = '';
    for (let i = 0; i < count; i += 1) {
      frontier.push(leafHash(leaves.subarray(i * 40, i * 40 + 40)));
      state.push(leaves, i, i + 1);
      if (i + 1 === sizes.sealedSize) sealedRoot = frontier.root().toString('hex');
      if (i + 1 === sizes.claimSize) claimedRoot = frontier.root().toString('hex');
      if (i % 97 === 0 || i === count - 1) {
        const snap = state.snapshot();
        blocks.push(...snap.blocks);
        expect(snap.size).to.equal(i + 1);
        expect(snap.subtrees).to.deep.equal(frontier.subtrees.map((h) => h.toString('hex')));
        // A state rebuilt from the snapshot (as a thread takes over) goes on alike.
        state = new TreeState(sizes, snap);
      }
    }
    const last = state.snapshot();
    expect(last.sealedRoot).to.equal(sealedRoot);
    expect(last.claimedRoot).to.equal(claimedRoot);
    const expected: Array<[number, string]> = [];
    for (let b = 0; (b + 1) * BLOCK_LEAVES <= sizes.sealedSize; b += 1) {
      const hashes = Array.from({ length: BLOCK_LEAVES }, (_, j) => leafHash(leaves.subarray((b * BLOCK_LEAVES + j) * 40, (b * BLOCK_LEAVES + j + 1) * 40)));
      const one = new Frontier();
      for (const h of hashes) one.push(h);
      expected.push([b, one.root().toString('hex')]);
    }
    expect(blocks).to.deep.equal(expected);
  });

  it('has the empty tree’s root before any leaf', () => {
    const state = new TreeState({ sealedSize: 0, claimSize: 0 });
    expect(state.snapshot().sealedRoot).to.equal(createHash('sha256').digest('hex'));
  });
});
