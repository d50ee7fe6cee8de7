import { expect } from 'chai';
import { PseudonymCache } from '../../lib/core/pseudonym-cache';
import { deriveState, stateOf } from '../../lib/state/derive';
import type { Requirement } from '../../lib/index';
import type { CurrentRecord } from '../../lib/tracker';

describe('PseudonymCache', () => {
  function counting(max: number) {
    const derived: string[] = [];
    const cache = new PseudonymCache(max, (id) => {
      derived.push(id);
      return `p:${id}`;
    });
    return { cache, derived };
  }

  it('derives each subject once while it is used, and stays bounded', () => {
    const { cache, derived } = counting(4);
    for (let round = 0; round < 3; round += 1) expect(cache.get('ann')).to.equal('p:ann');
    expect(derived).to.deep.equal(['ann']);
    for (let i = 0; i < 50; i += 1) cache.get(`u${String(i)}`);
    expect(cache.size).to.be.at.most(4);
  });

  it('keeps a recently used subject and drops one unused for a whole generation', () => {
    const { cache, derived } = counting(4);
    cache.get('a');
    cache.get('b'); // generation full: a, b move to the previous one
    cache.get('a'); // used again: moves forward
    cache.get('c'); // full again: b is dropped
    derived.length = 0;
    cache.get('a');
    cache.get('b');
    expect(derived).to.deep.equal(['b']);
  });

  it('forgets one subject or everything', () => {
    const { cache, derived } = counting(10);
    cache.get('a');
    cache.get('b');
    cache.forget('a');
    cache.get('a');
    cache.get('b');
    expect(derived).to.deep.equal(['a', 'b', 'a']);
    cache.forget();
    expect(cache.size).to.equal(0);
  });
});

describe('stateOf (the guard\'s allocation-free state)', () => {
  it('agrees with deriveState on every kind of record', () => {
    const requirement = { id: 'r', version: 2 } as Requirement;
    const base: CurrentRecord = {
      requirement: 'r', decision: null, version: null, decidedAt: null, expiresAt: null, gpcOptIn: false,
      pendingVersion: null, pendingAt: null, pendingExpiresAt: null, pendingToken: null, expiryRecorded: false,
    };
    const records: Array<CurrentRecord | undefined> = [undefined, base];
    for (const decision of ['granted', 'denied'] as const) {
      for (const version of [1, 2]) {
        for (const expiresAt of [null, 50, 200]) {
          for (const pendingExpiresAt of [null, 50, 200]) {
            records.push({ ...base, decision, version, decidedAt: 10, expiresAt, pendingVersion: 2, pendingAt: 20, pendingExpiresAt });
          }
        }
      }
    }
    records.push({ ...base, pendingVersion: 2, pendingAt: 20, pendingExpiresAt: 200 });
    const seen = new Set<string>();
    for (const record of records) {
      const state = stateOf(record, requirement, 100);
      expect(state).to.equal(deriveState(record, requirement, 100).state);
      seen.add(state);
    }
    expect([...seen].sort()).to.deep.equal(['denied', 'expired', 'granted', 'outdated', 'pending', 'unset']);
  });
});
