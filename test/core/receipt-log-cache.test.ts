import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { rootFromPath } from '../../lib/audit/merkle';
import { createConsent, MemoryTracker, verifyReceipt, type Consent } from '../../lib/index';
import { inclusionOf, SubtreeCache } from '../../lib/core/log-proof';
import type { LogBlockQuery } from '../../lib/tracker/log-records';

const SECRET = 'receipt-log-cache-secret-0123456789abcdef';
const { privateKey } = generateKeyPairSync('ed25519');

/** A memory tracker that counts the log blocks read by position (the reads an audit path costs). */
function countingTracker(): { tracker: MemoryTracker; read: () => number } {
  const tracker = new MemoryTracker();
  let read = 0;
  const logBlocks = tracker.logBlocks.bind(tracker);
  tracker.logBlocks = async (query: LogBlockQuery) => {
    const blocks = await logBlocks(query);
    if (query.from !== undefined) read += blocks.length;
    return blocks;
  };
  return { tracker, read: () => read };
}

async function importSubjects(consent: Consent, from: number, count: number): Promise<void> {
  await consent.import(Array.from({ length: count }, (_, i) => ({ subjectId: `u${String(from + i)}`, requirement: 'news', decision: 'granted' as const, at: Date.now() - 1000 })));
}

describe('receipts in a growing global log', () => {
  it('read the blocks near the proven event and those added since, not the whole log, and stay valid', async function () {
    this.timeout(30_000);
    const { tracker, read } = countingTracker();
    const consent = createConsent({ tracker, secret: SECRET, logger: { warn() {}, error() {} }, receipts: { privateKey, controller: 'ACME' } });
    consent.register({ id: 'news', title: 'News', description: 'A letter.' });
    await consent.ready();
    // 20,000 events: 78 complete blocks of 256 leaves.
    await importSubjects(consent, 0, 20_000);
    await consent.record('ann', { news: 'granted' });
    const first = await consent.receipt('ann');
    expect(verifyReceipt(first, consent.publicKey)).to.equal(true);
    expect(read()).to.equal(78, 'the first receipt reads every block');
    for (let round = 1; round <= 3; round += 1) {
      await importSubjects(consent, 20_000 * round, 600);
      await consent.record(`bo${String(round)}`, { news: 'granted' });
      for (const subject of ['ann', `bo${String(round)}`, 'u5000']) {
        const before = read();
        const receipt = await consent.receipt(subject);
        expect(verifyReceipt(receipt, consent.publicKey), subject).to.equal(true);
        expect(receipt.log?.checkpoint.size).to.equal(20_001 + 601 * round);
        // Subtrees of 16 blocks and more are kept: at most the blocks below them on each side of the path.
        expect(read() - before, subject).to.be.below(40);
      }
    }
    expect(await consent.verify()).to.include({ ok: true });
    await consent.close();
  });

  it('builds the path from the store again when a kept subtree no longer leads to the root (a store restored)', async () => {
    const tracker = new MemoryTracker();
    const consent = createConsent({ tracker, secret: SECRET, logger: { warn() {}, error() {} }, receipts: { privateKey, controller: 'ACME' } });
    consent.register({ id: 'news', title: 'News', description: 'A letter.' });
    await consent.ready();
    await importSubjects(consent, 0, 5000);
    await consent.record('ann', { news: 'granted' });
    const head = await consent.engine.sealLog();
    const [chainHead] = await tracker.heads({ pseudonym: consent.engine.pseudonym('ann'), limit: 1 });
    const fresh = await inclusionOf(tracker, head, chainHead?.id as string, chainHead?.hash as string);
    const cache = new SubtreeCache();
    // The siblings of the newest leaf: what a cache kept from another history would hold instead.
    cache.set(0, 4096, Buffer.alloc(32, 7));
    const again = await inclusionOf(tracker, head, chainHead?.id as string, chainHead?.hash as string, cache);
    expect(again?.path.map((p) => p.toString('hex'))).to.deep.equal(fresh?.path.map((p) => p.toString('hex')));
    expect(rootFromPath(again?.leafIndex as number, head?.size as number, again?.leafHash as Buffer, again?.path as Buffer[])?.toString('hex')).to.equal(head?.root);
    expect(cache.get(0, 4096)?.equals(Buffer.alloc(32, 7))).to.not.equal(true);
    await consent.close();
  });
});
