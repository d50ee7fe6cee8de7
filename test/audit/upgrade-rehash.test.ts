import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { eventHash, GENESIS, legacyHeadMac } from '../../lib/audit/chain';
import { headSeal } from '../../lib/audit/head-seal';
import { ChainRehash } from '../../lib/audit/upgrade-rehash';
import { ChainVerifier } from '../../lib/audit/verify-chain';
import type { EventRewrite } from '../../lib/tracker/capabilities';
import { emptyRecord, type CurrentRecord, type SealedHead, type StoredEvent } from '../../lib/tracker/records';

const KEY = Buffer.alloc(32, 5);
const CHAIN = 'd'.repeat(32);
const hmac = (text: string): string => createHmac('sha256', KEY).update(text, 'utf8').digest('hex');

/**
 * A chain as release 1 (230ef4e) hashed it, written out here from its format (`ec2`): the actor
 * among the chained members, a personal digest of note, data, ip and user agent only. Events
 * from `modernFrom` on are hashed in the current format, as a later release appended them.
 */
function releaseOneChain(count: number, modernFrom = count): StoredEvent[] {
  const events: StoredEvent[] = [];
  let previous = GENESIS;
  for (let i = 0; i < count; i += 1) {
    const fields = {
      chain: CHAIN, seq: i + 1, id: String(20 + i), prevId: i === 0 ? null : String(19 + i), requirement: 'a', version: 1,
      action: i % 2 ? 'withdraw' : 'grant', state: i % 2 ? 'denied' : 'granted', source: 'admin', actor: `agent-${String(i)}`,
      at: 5000 + i, note: `note ${String(i)}`, data: null, ip: null, userAgent: null, personalSalt: null, context: null,
    };
    let personalDigest: string;
    let hash: string;
    if (i < modernFrom) {
      personalDigest = hmac(JSON.stringify({ data: null, ip: null, note: fields.note, userAgent: null }));
      const { action, actor, at, chain, id, prevId, requirement, seq, source, state, version } = fields;
      hash = hmac(`ec2\n${previous}\n${JSON.stringify({ action, actor, at, chain, id, personalDigest, prevId, requirement, seq, source, state, version })}`);
    } else {
      personalDigest = hmac(JSON.stringify({ actor: fields.actor, data: null, ip: null, note: fields.note, userAgent: null }));
      hash = eventHash(KEY, previous, { ...fields, personalDigest });
    }
    events.push({ ...fields, personalDigest, prevHash: '', hash } as StoredEvent);
    previous = hash;
  }
  return events;
}

function recordsOf(events: readonly StoredEvent[]): CurrentRecord[] {
  const last = events[events.length - 1] as StoredEvent;
  return [{ ...emptyRecord('a'), decision: last.state as 'granted' | 'denied', version: 1, decidedAt: last.at }];
}

/** The head as release 1 sealed it. */
function legacyHead(events: readonly StoredEvent[], erased = false): SealedHead {
  const last = events[events.length - 1] as StoredEvent;
  const head = { chain: CHAIN, pseudonym: erased ? null : 'p', seq: last.seq, hash: last.hash, id: last.id, erased, mac: '' };
  return { ...head, mac: legacyHeadMac(KEY, head), records: erased ? [] : recordsOf(events) };
}

function verify(head: SealedHead, events: readonly StoredEvent[], legacy: boolean) {
  const verifier = new ChainVerifier(KEY, legacy);
  verifier.begin(head);
  for (const event of events) verifier.push({ ...event, prevHash: '' });
  verifier.end();
  return verifier.result();
}

/** The chain and head after `ChainRehash`, as the tracker stores them, its head sealed anew. */
function upgrade(head: SealedHead, events: readonly StoredEvent[]): { head: SealedHead; events: StoredEvent[]; rewrites: Array<EventRewrite | null> } {
  const rehash = new ChainRehash(KEY, head);
  const rewrites = events.map((event) => rehash.push(event));
  const rewritten = events.map((event, i) => ({ ...event, ...(rewrites[i] ?? {}) }));
  const hash = rehash.headHash();
  return { head: { ...head, hash, mac: headSeal(KEY, { ...head, hash }, head.records) }, events: rewritten, rewrites };
}

describe('events of release 1 (format ec2) on upgrade (pure)', () => {
  it('verify only as an upgraded store before sealing, and are rewritten into a chain that verifies in the current format', () => {
    const events = releaseOneChain(4);
    const head = legacyHead(events);
    expect(verify(head, events, true)).to.deep.equal({ ok: true, checked: 4, problems: [] });
    const after = upgrade(head, events);
    expect(after.rewrites.every((r) => r !== null)).to.equal(true);
    expect(after.events.map((e) => e.actor)).to.deep.equal(['agent-0', 'agent-1', 'agent-2', 'agent-3'], 'actors kept, now under the digest');
    expect(verify(after.head, after.events, false)).to.deep.equal({ ok: true, checked: 4, problems: [] });
    // An actor changed after the upgrade is caught by the personal digest.
    const changed = after.events.map((e, i) => (i === 1 ? { ...e, actor: 'someone' } : e));
    expect(verify(after.head, changed, false).problems).to.deep.equal([{ eventId: '21', kind: 'modified' }]);
  });

  it('are refused outside an upgrade', () => {
    const events = releaseOneChain(2);
    const head = { ...legacyHead(events), mac: '' };
    const sealed = { ...head, mac: headSeal(KEY, head, head.records) };
    expect(verify(sealed, events, false).ok).to.equal(false);
  });

  it('catch a change of any field release 1 covered, the actor and the personal fields among them', () => {
    const events = releaseOneChain(3);
    const head = legacyHead(events);
    for (const edit of [{ actor: 'agent-x' }, { note: 'other' }, { ip: '192.0.2.9' }, { at: 1 }, { personalSalt: 'ab'.repeat(16) }]) {
      const tampered = events.map((e, i) => (i === 1 ? { ...e, ...edit } : e));
      expect(verify(head, tampered, true).problems, JSON.stringify(edit)).to.deep.equal([{ eventId: '21', kind: 'modified' }]);
    }
  });

  it('rewrite the events a later release appended after them, chained to their new predecessors', () => {
    const events = releaseOneChain(4, 2);
    const head = legacyHead(events);
    expect(verify(head, events, true).ok).to.equal(true);
    const after = upgrade(head, events);
    // All four get new hashes; only release 1's get new digests (covering their actors).
    expect(after.rewrites.map((r, i) => r !== null && r.personalDigest === events[i]?.personalDigest)).to.deep.equal([false, false, true, true]);
    expect(verify(after.head, after.events, false)).to.deep.equal({ ok: true, checked: 4, problems: [] });
  });

  it('leave a chain in the current format as it is', () => {
    const events = releaseOneChain(3, 0);
    const head = legacyHead(events);
    const after = upgrade(head, events);
    expect(after.rewrites).to.deep.equal([null, null, null]);
    expect(after.head.hash).to.equal(head.hash);
  });

  it('of a chain release 1 erased lose the actors it kept, while the erase event keeps who asked', () => {
    const kept = releaseOneChain(3);
    // Release 1's erasure cleared the personal fields but left the actor, which its hash covered.
    const events = kept.map((e, i): StoredEvent => (i < 2 ? { ...e, note: null } : { ...e, action: 'erase', requirement: '*', version: 0, state: 'unset', note: null }));
    // The erase event's own hash must cover what it says: rebuild it in release 1's format.
    const last = events[2] as StoredEvent;
    const digest = hmac(JSON.stringify({ data: null, ip: null, note: null, userAgent: null }));
    const { action, actor, at, chain, id, prevId, requirement, seq, source, state, version } = last;
    last.personalDigest = digest;
    last.hash = hmac(`ec2\n${(events[1] as StoredEvent).hash}\n${JSON.stringify({ action, actor, at, chain, id, personalDigest: digest, prevId, requirement, seq, source, state, version })}`);
    const head = legacyHead(events, true);
    expect(verify(head, events, true)).to.deep.equal({ ok: true, checked: 3, problems: [] });
    const after = upgrade(head, events);
    expect(after.events.map((e) => e.actor)).to.deep.equal([null, null, 'agent-2']);
    expect(verify(after.head, after.events, false)).to.deep.equal({ ok: true, checked: 3, problems: [] });
  });

  it('are refused, not sealed anew, when a field changed after the check', () => {
    const events = releaseOneChain(2);
    for (const edit of [{ note: 'changed' }, { actor: 'agent-x' }]) {
      const rehash = new ChainRehash(KEY, legacyHead(events));
      expect(() => rehash.push({ ...(events[0] as StoredEvent), ...edit })).to.throw(/sealed in no known format/);
    }
  });

  it('are refused, not sealed anew, when the chain no longer ends at its head or a record no longer follows from its events', () => {
    const events = releaseOneChain(3);
    const head = legacyHead(events);
    const sealOf = (h: SealedHead, pushed: readonly StoredEvent[]) => () => {
      const rehash = new ChainRehash(KEY, h);
      for (const event of pushed) rehash.push(event);
      return rehash.headHash();
    };
    expect(sealOf(head, events.slice(0, 2))).to.throw(/does not end at its head/);
    const denied = [{ ...(head.records[0] as CurrentRecord), decision: 'denied' as const }];
    expect(sealOf({ ...head, records: denied }, events)).to.throw(/record of "a"/);
    expect(sealOf(head, events)).not.to.throw();
  });
});
