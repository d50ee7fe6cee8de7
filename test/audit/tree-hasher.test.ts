import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { TreeState } from '../../lib/audit/log-tree';
import { TreeHasher, treeWorkers } from '../../lib/audit/tree-hasher';

describe('TreeHasher (the log tree on a worker thread)', () => {
  const saved = { ...treeWorkers };
  afterEach(() => { Object.assign(treeWorkers, saved); });

  const expected = (leaves: Buffer, sizes: { sealedSize: number; claimSize: number | null }) => {
    const state = new TreeState(sizes);
    state.push(leaves, 0, leaves.length / 40);
    return state.snapshot();
  };

  it('gives the in-process answer when a batch cannot be sent to the thread, whatever was pushed after', async () => {
    const count = 3 * 5000;
    const leaves = randomBytes(count * 40);
    const sizes = { sealedSize: count - 7, claimSize: 9000 };
    treeWorkers.minLeaves = 10;
    treeWorkers.enabled = true;
    const post = Object.getOwnPropertyDescriptor(Worker.prototype, 'postMessage') as PropertyDescriptor;
    // The thread starts, but the first batch it is sent fails to go out (synchronously).
    Object.defineProperty(Worker.prototype, 'postMessage', { ...post, value: () => { throw new Error('cannot send'); } });
    try {
      const hasher = new TreeHasher(sizes);
      for (let from = 0; from < count; from += 5000) hasher.push(leaves, from, from + 5000);
      const facts = await hasher.finish();
      const want = expected(leaves, sizes);
      expect(facts.size).to.equal(count);
      expect(facts.sealedRoot).to.equal(want.sealedRoot);
      expect(facts.claimedRoot).to.equal(want.claimedRoot);
      expect([...facts.blocks.entries()].sort((a, b) => a[0] - b[0])).to.deep.equal(want.blocks);
    } finally {
      Object.defineProperty(Worker.prototype, 'postMessage', post);
    }
    expect(treeWorkers.failed).to.be.greaterThan(saved.failed);
  });

  it('gives the same answer on the thread as in-process', async () => {
    const count = 20_000 + 123;
    const leaves = randomBytes(count * 40);
    const sizes = { sealedSize: count, claimSize: 17_000 };
    treeWorkers.minLeaves = 1000;
    treeWorkers.enabled = true;
    const hasher = new TreeHasher(sizes);
    for (let from = 0; from < count; from += 512) hasher.push(leaves, from, Math.min(count, from + 512));
    const facts = await hasher.finish();
    const want = expected(leaves, sizes);
    expect(treeWorkers.started).to.be.greaterThan(saved.started);
    expect([facts.size, facts.sealedRoot, facts.claimedRoot]).to.deep.equal([count, want.sealedRoot, want.claimedRoot]);
    expect([...facts.blocks.entries()].sort((a, b) => a[0] - b[0])).to.deep.equal(want.blocks);
  });

  it('refuses leaves and an answer once closed, instead of waiting for a thread that is gone', async () => {
    treeWorkers.minLeaves = 10;
    treeWorkers.enabled = true;
    const leaves = randomBytes(9000 * 40);
    const hasher = new TreeHasher({ sealedSize: 9000, claimSize: null });
    hasher.push(leaves, 0, 100);
    hasher.close();
    expect(() => { hasher.push(leaves, 100, 9000); }).to.throw(/after close/);
    let failure: unknown = null;
    await hasher.finish().catch((error: unknown) => { failure = error; });
    expect(String(failure)).to.match(/after close/);
  });
});
