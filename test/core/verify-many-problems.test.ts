import { expect } from 'chai';
import { eventHash, GENESIS } from '../../lib/audit/chain';
import { settledChainProblems, type ChainReader } from '../../lib/core/verify-settle';
import type { SealedHead, StoredEvent } from '../../lib/tracker/records';

const KEY = Buffer.alloc(32, 7);
// More problems than a function call can take as arguments (about 125,000 on Node 20's default
// stack): as many as a store of that size gives when every event fails, e.g. one refused at an upgrade.
const EVENTS = 200_000;

/** One chain of `EVENTS` events whose hashes link, each with a personal digest that is not its fields'. */
function tamperedChain(): { head: SealedHead; events: StoredEvent[] } {
  const events: StoredEvent[] = [];
  let prevHash = GENESIS;
  for (let seq = 1; seq <= EVENTS; seq += 1) {
    const event: StoredEvent = {
      id: String(seq), chain: 'c1', seq, requirement: 'a', version: 1, action: 'grant', state: 'granted', source: 'app',
      actor: null, context: null, at: 1_700_000_000_000, note: null, data: null, ip: null, userAgent: null, personalDigest: 'ab'.repeat(32),
      prevId: seq === 1 ? null : String(seq - 1), prevHash, hash: '',
    };
    event.hash = eventHash(KEY, prevHash, event);
    prevHash = event.hash;
    events.push({ ...event, prevHash: '' });
  }
  const last = events[events.length - 1] as StoredEvent;
  return { head: { chain: 'c1', pseudonym: 'p1', seq: EVENTS, hash: last.hash, id: last.id, erased: false, mac: 'not-a-seal', records: [] }, events };
}

describe('verify() reporting more problems than a call takes arguments', () => {
  it('returns every problem instead of failing with a RangeError', async function () {
    this.timeout(60_000);
    const { head, events } = tamperedChain();
    const reader = {
      heads: () => Promise.resolve([head]),
      scanEvents: ({ after, limit }: { after?: { seq: number }; limit: number }) => {
        const from = after?.seq ?? 0;
        return Promise.resolve(events.slice(from, from + limit).map((e) => ({ ...e })));
      },
    } as unknown as ChainReader;
    const problems = await settledChainProblems(reader, KEY, ['c1']);
    expect(problems.filter((p) => p.kind === 'modified')).to.have.length(EVENTS);
  });
});
