import { expect } from 'chai';
import { encodeLeaves, LEAF_BYTES } from '../../lib/audit/log-leaf';
import { leavesOfRuns, MAX_ENTRY_LEAVES, packLeaves, readStored, sliceRuns, unpackLeaves, type IdRun } from '../../lib/knex/packed-leaves';

const hash = (n: number): string => (n % 256).toString(16).padStart(2, '0').repeat(32);
const leaves = (ids: string[]): Buffer => encodeLeaves(ids.map((id, i) => ({ id, hash: hash(i + 1) })));
const hashes = (count: number): Buffer => Buffer.concat(Array.from({ length: count }, (_, i) => Buffer.from(hash(i + 1), 'hex')));

/** The plain leaves a stored entry reads as, given the events' hashes in order. */
function read(stored: Buffer): Buffer {
  const entry = readStored(stored);
  if ('leaves' in entry) return entry.leaves;
  return leavesOfRuns(entry.runs, hashes(entry.runs.reduce((n, r) => n + r.count, 0)));
}

describe('log entries as stored: their events\' ids', () => {
  it('stores consecutive ids as a tag, the first id and the count, whatever their number', () => {
    for (const ids of [['41'], ['41', '42', '43', '44'], Array.from({ length: 5000 }, (_, i) => String(1000 + i))]) {
      const packed = packLeaves(leaves(ids));
      expect(packed.length).to.equal(1 + 8 + 4);
      expect(readStored(packed)).to.deep.equal({ runs: [{ first: BigInt(ids[0] as string), count: ids.length }] });
      expect(read(packed).equals(leaves(ids))).to.equal(true);
    }
  });

  it('stores other ids one by one, in their order, and reads consecutive ones as runs', () => {
    const ids = ['7', '9', '10', '11', '3', '2'];
    const packed = packLeaves(leaves(ids));
    expect(packed.length).to.equal(1 + 8 * ids.length);
    const runs: IdRun[] = [{ first: 7n, count: 1 }, { first: 9n, count: 3 }, { first: 3n, count: 1 }, { first: 2n, count: 1 }];
    expect(readStored(packed)).to.deep.equal({ runs });
    expect(read(packed).equals(leaves(ids))).to.equal(true);
  });

  it('cuts the ids from one place to another out of runs, across them', () => {
    const runs: IdRun[] = [{ first: 10n, count: 3 }, { first: 20n, count: 1 }, { first: 30n, count: 4 }];
    expect(sliceRuns(runs, 0, 8)).to.deep.equal(runs);
    expect(sliceRuns(runs, 1, 6)).to.deep.equal([{ first: 11n, count: 2 }, { first: 20n, count: 1 }, { first: 30n, count: 2 }]);
    expect(sliceRuns(runs, 4, 5)).to.deep.equal([{ first: 30n, count: 1 }]);
    expect(sliceRuns(runs, 3, 3)).to.deep.equal([]);
    expect(sliceRuns(runs, 7, 20)).to.deep.equal([{ first: 33n, count: 1 }]);
  });

  it('keeps ids from 2^48 on, and up to 2^53 and beyond, exactly', () => {
    for (const ids of [
      ['281474976710655', '281474976710656', '281474976710657'],
      ['281474976710653', '281474976710654', '281474976710655'],
      ['9007199254740992', '9007199254740993'],
      ['9223372036854775806', '12'],
    ]) {
      expect(read(packLeaves(leaves(ids))).equals(leaves(ids))).to.equal(true);
    }
  });

  it('reads the forms stored before, which held the hashes: plain leaves, and consecutive ids packed with their hashes', () => {
    const plain = leaves(['5', '8']);
    expect(readStored(plain)).to.deep.equal({ leaves: plain });
    const consecutive = leaves(['41', '42', '43']);
    const withHashes = Buffer.concat([Buffer.from([0x01]), consecutive.subarray(0, 8), ...[0, 1, 2].map((i) => consecutive.subarray(i * LEAF_BYTES + 8, (i + 1) * LEAF_BYTES))]);
    expect(withHashes.length).to.equal(1 + 8 + 3 * 32);
    expect(unpackLeaves(withHashes).equals(consecutive)).to.equal(true);
    expect(readStored(withHashes)).to.deep.equal({ leaves: consecutive });
  });

  it('reads a count or an id the library never stores as no known form: nothing is read for it', () => {
    const run = (first: bigint, count: number): Buffer => {
      const out = Buffer.alloc(13);
      out[0] = 2;
      out.writeBigUInt64BE(first, 1);
      out.writeUInt32BE(count, 9);
      return out;
    };
    const ids = (...values: bigint[]): Buffer => Buffer.concat([Buffer.from([3]), ...values.map((v) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(v); return b; })]);
    expect(readStored(run(5n, MAX_ENTRY_LEAVES))).to.deep.equal({ runs: [{ first: 5n, count: MAX_ENTRY_LEAVES }] });
    for (const odd of [run(5n, 0), run(5n, MAX_ENTRY_LEAVES + 1), run(5n, 2 ** 32 - 1), run(0n, 3), run(2n ** 63n - 2n, 3), run(2n ** 64n - 1n, 1), ids(4n, 0n), ids(2n ** 63n), ids(2n ** 64n - 1n, 9n)]) {
      expect(readStored(odd)).to.deep.equal({ leaves: odd });
    }
    expect(readStored(run(2n ** 63n - 3n, 3))).to.deep.equal({ runs: [{ first: 2n ** 63n - 3n, count: 3 }] });
    // More events than an entry names by id are stored whole.
    const many = encodeLeaves(Array.from({ length: MAX_ENTRY_LEAVES + 1 }, (_, i) => ({ id: String(i + 1), hash: '00'.repeat(32) })));
    expect(packLeaves(many)).to.equal(many);
  });

  it('stores anything not whole leaves as given, and reads a value that is no known form as it is (the proof then fails to add up)', () => {
    const partial = Buffer.alloc(LEAF_BYTES + 3);
    expect(packLeaves(partial)).to.equal(partial);
    for (const odd of [Buffer.from([1, 2, 3]), Buffer.alloc(1 + 8 + 32, 7), Buffer.from([2, 0, 0]), Buffer.concat([Buffer.from([2]), Buffer.alloc(12)]), Buffer.from([3])]) {
      expect(readStored(odd)).to.deep.equal({ leaves: odd });
    }
  });
});
