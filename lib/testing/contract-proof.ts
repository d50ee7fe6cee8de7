import assert from 'node:assert/strict';
import { personalDigest } from '../audit/chain';
import { encodeLeaves, leafCount, leafHashAt } from '../audit/log-leaf';
import { BLOCK_LEAVES, LogFolder } from '../audit/log-seal';
import { EMPTY_ROOT, rootOf } from '../audit/merkle';
import { planErase } from '../state/plan-erase';
import type { ConsentTracker } from '../tracker/tracker';
import { currentRecords, eventAfter, FIXTURE_KEY, FIXTURE_SALT, grantedRecord, loggedEvents, planOf, pseudonymFor } from './fixtures';
import { openConsent, requirement, type Define } from './harness';

async function seed(tracker: ConsentTracker, pseudonym: string, count: number, extra = {}): Promise<string[]> {
  const { eventIds } = await tracker.write(pseudonym, (s) => ({
    plan: planOf(s, Array.from({ length: count }, (_, i) => eventAfter(s, i + 1, extra)), [grantedRecord('analytics')]),
    result: null,
  }));
  return eventIds;
}

/**
 * Seals until the sealed log holds `size` leaves: a tracker may hold entries back while
 * transactions that could still precede them run (on PostgreSQL, any writing transaction of the
 * server, other databases' included).
 */
async function sealUntil(tracker: ConsentTracker, size: number): Promise<Awaited<ReturnType<ConsentTracker['sealLog']>>> {
  for (const started = Date.now(); ;) {
    // Entries before any head start the log here (a suite's tracker may skip sealing it empty).
    const head = await tracker.sealLog(new LogFolder(FIXTURE_KEY, true));
    if ((head?.size ?? 0) >= size || Date.now() - started > 20_000) return head;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const eraseAt = (now: number, actor: string | null = null) => (s: Parameters<typeof planErase>[0]) =>
  planErase(s, { now, source: 'app', actor, personalSalt: actor === null ? null : FIXTURE_SALT }, FIXTURE_KEY);

/** The tracker's proof contract: scans, heads, the global log, erase(), setting(). */
export function proofContract(define: Define): void {
  define('scanEvents() pages every event in (chain, seq) order; heads() lists sealed heads', async (tracker) => {
    await tracker.init({ migrate: true });
    const ids = [...(await seed(tracker, pseudonymFor('p-1'), 3)), ...(await seed(tracker, pseudonymFor('p-2'), 2)), ...(await seed(tracker, pseudonymFor('p-1'), 1))];
    const all = await tracker.scanEvents({ limit: 100 });
    const order = [...all].sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.seq - b.seq));
    assert.deepEqual(all, order);
    assert.deepEqual(new Set(all.map((e) => e.id)), new Set(ids));
    const paged = [];
    for (let after: { chain: string; seq: number } | undefined; ;) {
      const page = await tracker.scanEvents({ after, limit: 2 });
      paged.push(...page);
      const last = page[page.length - 1];
      if (!last) break;
      after = { chain: last.chain, seq: last.seq };
    }
    assert.deepEqual(paged, all);
    const [head] = await tracker.heads({ pseudonym: pseudonymFor('p-1'), limit: 5 });
    assert.equal(head?.seq, 4);
    assert.equal(head?.id, ids[5]);
    assert.equal(head?.erased, false);
    assert.equal(head?.pseudonym, pseudonymFor('p-1'));
    assert.deepEqual(head?.records, [grantedRecord('analytics')], 'a head comes with its chain\'s records');
    assert.deepEqual((await tracker.scanEvents({ chain: head?.chain, limit: 10 })).map((e) => e.seq), [1, 2, 3, 4]);
    const heads = await tracker.heads({ limit: 10 });
    assert.deepEqual(heads.map((h) => h.chain), [...new Set(order.map((e) => e.chain))]);
    assert.deepEqual((await tracker.heads({ after: heads[0]?.chain, limit: 10 })).map((h) => h.chain), [heads[1]?.chain]);
    assert.deepEqual((await tracker.heads({ chains: [heads[1]!.chain, 'nope'], limit: 10 })).length, 1);
  });

  define('write() logs its events; sealLog() folds every entry once, in order, and keeps blocks for proofs', async (tracker) => {
    await tracker.init({ migrate: true });
    assert.equal(await tracker.logHead(), null);
    const empty = await tracker.sealLog(new LogFolder(FIXTURE_KEY));
    assert.deepEqual([empty?.size, empty?.root], [0, EMPTY_ROOT.toString('hex')], 'an empty log is sealed too: a log without a head has lost it');
    assert.deepEqual(await tracker.logHead(), empty);
    assert.deepEqual(await tracker.sealLog(new LogFolder(FIXTURE_KEY)), empty, 'sealed once');
    const ids = [...(await seed(tracker, pseudonymFor('p-a'), 2)), ...(await seed(tracker, pseudonymFor('p-b'), 1))];
    const logged = await loggedEvents(tracker);
    assert.deepEqual(logged.map((e) => e.id), ids, 'one leaf per event, in the order written');
    const hashes = new Map((await tracker.scanEvents({ limit: 10 })).map((e) => [e.id, e.hash]));
    assert.deepEqual(logged.map((e) => e.hash), ids.map((id) => hashes.get(id)), 'each leaf carries its event hash');
    const leaves = encodeLeaves(logged);
    const rootOfFirst = (n: number) => rootOf(Array.from({ length: n }, (_, i) => leafHashAt(leaves, i))).toString('hex');
    const head = await sealUntil(tracker, 3);
    assert.deepEqual([head?.size, head?.root], [3, rootOfFirst(3)]);
    assert.deepEqual(await tracker.logHead(), head);
    assert.deepEqual(await tracker.sealLog(new LogFolder(FIXTURE_KEY)), head, 'nothing new: the head stays');
    await assert.rejects(tracker.sealLog(new LogFolder(Buffer.alloc(32, 0xee))), 'a head sealed with another key is refused');
    assert.deepEqual(await tracker.logHead(), head);
    // Enough events for a block: it is stored with where it starts and the ids it holds.
    await seed(tracker, pseudonymFor('p-c'), BLOCK_LEAVES);
    const all = encodeLeaves(await loggedEvents(tracker));
    const sealed = await sealUntil(tracker, BLOCK_LEAVES + 3);
    assert.equal(sealed?.size, BLOCK_LEAVES + 3);
    assert.equal(sealed?.root, rootOf(Array.from({ length: leafCount(all) }, (_, i) => leafHashAt(all, i))).toString('hex'));
    const [block, ...none] = await tracker.logBlocks({ from: 0, limit: 10 });
    assert.deepEqual(none, []);
    assert.equal(block?.index, 0);
    assert.equal(block?.hash, rootOf(Array.from({ length: BLOCK_LEAVES }, (_, i) => leafHashAt(all, i))).toString('hex'));
    assert.ok(block !== undefined && sealed?.open);
    assert.deepEqual(await tracker.logLeaves({ from: block.start, count: BLOCK_LEAVES }), all.subarray(0, BLOCK_LEAVES * 40));
    assert.deepEqual((await tracker.logBlocks({ containing: ids[1] ?? '', limit: 10 })).map((b) => b.index), [0]);
    assert.deepEqual(await tracker.logBlocks({ containing: '999999999999', limit: 10 }), []);
    assert.deepEqual(await tracker.logLeaves({ from: sealed.open, count: 3 }), all.subarray(BLOCK_LEAVES * 40));
  });

  define('erase() appends the sealed erase event, redacts, drops records and unlinks the pseudonym', async (tracker) => {
    await tracker.init({ migrate: true });
    const personal = { actor: 'agent', note: 'n', data: '{"x":1}', ip: '192.0.2.0', userAgent: 'UA', personalSalt: FIXTURE_SALT };
    await seed(tracker, pseudonymFor('p-e'), 2, { ...personal, personalDigest: personalDigest(FIXTURE_KEY, personal) });
    const [before] = await tracker.heads({ pseudonym: pseudonymFor('p-e'), limit: 1 });
    assert.equal(await tracker.erase(pseudonymFor('p-e'), eraseAt(1_700_000_100_000, 'dpo')), 2);
    assert.deepEqual(await tracker.heads({ pseudonym: pseudonymFor('p-e'), limit: 1 }), []);
    assert.deepEqual(await currentRecords(tracker, pseudonymFor('p-e')), []);
    assert.deepEqual(await tracker.history(pseudonymFor('p-e'), { limit: 10 }), []);
    const [after] = await tracker.heads({ chains: [before!.chain], limit: 1 });
    assert.equal(after?.erased, true);
    assert.equal(after?.pseudonym, null);
    assert.deepEqual(after?.records, []);
    assert.equal(after?.seq, 3);
    const events = await tracker.scanEvents({ chain: before!.chain, limit: 10 });
    assert.deepEqual(events.map((e) => [e.action, e.actor, e.note, e.data, e.ip, e.userAgent, e.personalSalt ?? null]), [
      ['grant', null, null, null, null, null, null], ['grant', null, null, null, null, null, null],
      // Who asked for the erasure stays on its own event, with its salt.
      ['erase', 'dpo', null, null, null, null, FIXTURE_SALT],
    ]);
    assert.equal(after?.id, events[2]?.id);
    assert.deepEqual((await loggedEvents(tracker)).map((e) => e.id), events.map((e) => e.id), 'the erase event is logged too');
    assert.equal(await tracker.erase(pseudonymFor('p-e'), eraseAt(1_700_000_200_000)), null, 'nothing left to erase');
    await seed(tracker, pseudonymFor('p-e'), 1);
    const [fresh] = await tracker.heads({ pseudonym: pseudonymFor('p-e'), limit: 1 });
    assert.notEqual(fresh?.chain, before?.chain, 'a new chain for the same pseudonym');
  });

  define('setting() keeps the first value stored under a name, also when callers race', async (tracker) => {
    await tracker.init({ migrate: true });
    const values = await Promise.all(['a', 'b', 'c'].map((v) => tracker.setting('receipt_key', v)));
    assert.equal(new Set(values).size, 1);
    assert.equal(await tracker.setting('receipt_key', 'z'), values[0]);
    assert.equal(await tracker.setting('other', 'y'), 'y');
  });

  define('through createConsent: history verifies, survives erasure, and receipts sign', async (tracker) => {
    const consent = await openConsent(tracker, [requirement('analytics'), requirement('news')]);
    await consent.record('alice', { analytics: 'granted', news: 'denied' }, { note: 'hello' });
    await consent.record('bob', { news: 'granted' });
    assert.deepEqual(await consent.verify(), { ok: true, checked: 3, problems: [] });
    assert.deepEqual(await consent.erase('alice'), { events: 2 });
    assert.deepEqual(await consent.verify(), { ok: true, checked: 4, problems: [] });
    assert.equal((await consent.states('alice')).analytics?.state, 'unset');
    assert.equal((await consent.receipt('bob')).decisions.length, 1);
    await consent.close();
  });
}
