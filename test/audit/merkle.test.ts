import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { EMPTY_ROOT, Frontier, inclusionPath, leafHash, rootFromPath, rootOf } from '../../lib/audit/merkle';

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

/** MTH of RFC 9162 §2.1.1, written from its definition (recursion on the largest power of two below n). */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1, from its definition. */
function path(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

// The leaves and roots of the Certificate Transparency test vectors (RFC 6962 trees).
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`leaf ${String(i)}`));

describe('Merkle tree (RFC 9162 style, pure)', () => {
  it('has the roots of the Certificate Transparency test vectors', () => {
    for (let n = 1; n <= CT_LEAVES.length; n += 1) {
      expect(rootOf(CT_LEAVES.slice(0, n).map(leafHash)).toString('hex')).to.equal(CT_ROOTS[n - 1], `${String(n)} leaves`);
    }
    expect(rootOf([]).toString('hex')).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(EMPTY_ROOT.equals(sha())).to.equal(true);
  });

  it('builds the same root leaf by leaf as the definition, for every size up to 70', () => {
    const leaves = leavesOf(70);
    const frontier = new Frontier();
    for (let n = 1; n <= leaves.length; n += 1) {
      frontier.push(leafHash(leaves[n - 1]!));
      expect(frontier.root().equals(mth(leaves.slice(0, n))), `${String(n)} leaves`).to.equal(true);
      // One subtree per set bit of the size: a frontier stored and restored continues alike.
      const restored = new Frontier(frontier.size, frontier.subtrees);
      expect(restored.subtrees).to.have.length(n.toString(2).replace(/0/g, '').length);
      expect(restored.root().equals(frontier.root())).to.equal(true);
    }
    expect(() => new Frontier(5, [sha()])).to.throw(/subtrees/);
  });

  it('reports each complete subtree as it forms, with its first leaf', () => {
    const seen: Array<[number, number]> = [];
    const frontier = new Frontier();
    const leaves = leavesOf(12);
    for (const leaf of leaves) {
      frontier.push(leafHash(leaf), (height, hash, first) => {
        seen.push([height, first]);
        expect(hash.equals(mth(leaves.slice(first, first + 2 ** height)))).to.equal(true);
      });
    }
    expect(seen.filter(([h]) => h === 2)).to.deep.equal([[2, 0], [2, 4], [2, 8]]);
    expect(seen.filter(([h]) => h === 3)).to.deep.equal([[3, 0]]);
  });

  it('gives the audit path of the definition for every leaf of trees of 1 to 33 leaves, and it leads to the root', () => {
    for (let n = 1; n <= 33; n += 1) {
      const leaves = leavesOf(n);
      const root = mth(leaves);
      const range = (a: number, b: number) => mth(leaves.slice(a, b));
      for (let m = 0; m < n; m += 1) {
        const audit = inclusionPath(m, n, range);
        expect(audit.map((h) => h.toString('hex'))).to.deep.equal(path(m, leaves).map((h) => h.toString('hex')), `leaf ${String(m)} of ${String(n)}`);
        expect(rootFromPath(m, n, leafHash(leaves[m]!), audit)?.equals(root)).to.equal(true);
      }
    }
  });

  it('leads nowhere, or elsewhere, from a wrong leaf, index, size or path', () => {
    const leaves = leavesOf(13);
    const root = mth(leaves);
    const audit = inclusionPath(6, 13, (a, b) => mth(leaves.slice(a, b)));
    const leaf = leafHash(leaves[6]!);
    expect(rootFromPath(6, 13, leafHash(leaves[7]!), audit)?.equals(root)).to.equal(false);
    expect(rootFromPath(7, 13, leaf, audit)?.equals(root) ?? false).to.equal(false);
    expect(rootFromPath(6, 13, leaf, audit.slice(1))).to.equal(null);
    expect(rootFromPath(6, 13, leaf, [...audit, sha()])).to.equal(null);
    expect(rootFromPath(13, 13, leaf, audit)).to.equal(null);
    expect(rootFromPath(-1, 13, leaf, audit)).to.equal(null);
    const flipped = audit.map((h, i) => (i === 2 ? sha(h) : h));
    expect(rootFromPath(6, 13, leaf, flipped)?.equals(root)).to.equal(false);
    expect(() => inclusionPath(13, 13, () => sha())).to.throw(RangeError);
  });
});
