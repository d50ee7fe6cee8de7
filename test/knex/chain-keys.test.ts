import { expect } from 'chai';
import { CHAIN_KEY_BYTES, chainKeyAt, newChainKeys, newSubjectRows, scatterChainKeys } from '../../lib/knex/batch-rows';

describe('keys of new chains', () => {
  it('gives every chain of a batch its own key: the creation time in seconds, then a counter from a random start', () => {
    const before = Math.floor(Date.now() / 1000);
    const count = 100_000;
    const keys = newChainKeys(count);
    const after = Math.floor(Date.now() / 1000);
    expect(CHAIN_KEY_BYTES).to.equal(8);
    expect(keys.length).to.equal(CHAIN_KEY_BYTES * count);
    const seen = new Set<string>();
    const first = chainKeyAt(keys, 0);
    for (let i = 0; i < count; i += 1) {
      const key = chainKeyAt(keys, i);
      seen.add(key.toString('hex'));
      expect(key.readUInt32BE(0)).to.be.within(before, after);
      expect(key.readUInt32BE(4)).to.equal((first.readUInt32BE(4) + i) % 2 ** 32);
    }
    expect(seen.size).to.equal(count);
  });

  it('counts on from the previous batch, and from another random point once scattered', () => {
    const first = newChainKeys(3);
    const second = newChainKeys(2);
    expect(second.readUInt32BE(4)).to.equal((first.readUInt32BE(CHAIN_KEY_BYTES * 2 + 4) + 1) % 2 ** 32);
    const starts = new Set(Array.from({ length: 20 }, () => {
      scatterChainKeys();
      return newChainKeys(1).readUInt32BE(4);
    }));
    expect(starts.size).to.be.greaterThan(1);
  });

  it('gives the rows of new subjects distinct keys and empty chains', () => {
    const rows = newSubjectRows(['aa', 'bb', 'cc']);
    expect(new Set(rows.map((row) => (row[0] as Buffer).toString('hex'))).size).to.equal(3);
    // The head (position and hash) is read from the newest event: an empty chain has no head id and no seal.
    expect(rows.map((row) => [(row[1] as Buffer).toString('hex'), (row[2] as Buffer).length, row.length])).to.deep.equal(
      ['aa', 'bb', 'cc'].map((p) => [p, 0, 3]),
    );
  });
});
