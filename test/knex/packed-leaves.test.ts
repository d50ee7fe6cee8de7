import { expect } from 'chai';
import { encodeLeaves, LEAF_BYTES } from '../../lib/audit/log-leaf';
import { packLeaves, unpackLeaves } from '../../lib/knex/packed-leaves';

const hash = (n: number): string => n.toString(16).padStart(2, '0').repeat(32);
const leaves = (ids: string[]): Buffer => encodeLeaves(ids.map((id, i) => ({ id, hash: hash(i + 1) })));

describe('log entries as stored: consecutive ids packed', () => {
  it('stores the leaves of consecutive ids as a tag, the first id and the hashes, and reads them back', () => {
    const plain = leaves(['41', '42', '43', '44']);
    const packed = packLeaves(plain);
    expect(packed.length).to.equal(1 + 8 + 4 * 32);
    expect(unpackLeaves(packed).equals(plain)).to.equal(true);
  });

  it('packs ids from 2^48 on as well', () => {
    const plain = leaves(['281474976710655', '281474976710656', '281474976710657']);
    expect(unpackLeaves(packLeaves(plain)).equals(plain)).to.equal(true);
    expect(packLeaves(plain).length).to.equal(1 + 8 + 3 * 32);
    // Up to 2^48 - 1 exactly, and from 2^53 on.
    for (const ids of [['281474976710653', '281474976710654', '281474976710655'], ['9007199254740992', '9007199254740993']]) {
      expect(unpackLeaves(packLeaves(leaves(ids))).equals(leaves(ids))).to.equal(true);
    }
  });

  it('keeps as they are one leaf, ids with a gap or out of order, and anything not whole leaves', () => {
    for (const plain of [leaves(['7']), leaves(['1', '3']), leaves(['2', '1']), Buffer.alloc(LEAF_BYTES + 3)]) {
      expect(packLeaves(plain)).to.equal(plain);
      expect(unpackLeaves(plain)).to.equal(plain);
    }
  });

  it('reads a stored value that is neither form as it is (the proof then fails to add up)', () => {
    const odd = Buffer.from([1, 2, 3]);
    expect(unpackLeaves(odd)).to.equal(odd);
    const tagless = Buffer.alloc(1 + 8 + 32, 7);
    expect(unpackLeaves(tagless)).to.equal(tagless);
  });
});
