import { expect } from 'chai';
import { GENESIS, personalDigest } from '../../lib/audit/chain';
import { sealChain } from '../../lib/audit/seal';
import { ChainVerifier } from '../../lib/audit/verify-chain';
import { emptyRecord, type CurrentRecord, type DraftEvent, type SealedHead, type StoredEvent, type SubjectSnapshot } from '../../lib/tracker/records';

const KEY = Buffer.alloc(32, 3);
const CHAIN = 'c'.repeat(32);
const NEW: SubjectSnapshot = { chain: CHAIN, pseudonym: 'p', seq: 0, hash: GENESIS, headId: null, mac: '', records: [] };

function chainOf(count: number): { events: StoredEvent[]; head: SealedHead } {
  const drafts: DraftEvent[] = Array.from({ length: count }, (_, i) => {
    const personal = { actor: null, note: `note ${String(i)}`, data: null, ip: null, userAgent: null };
    return {
      chain: CHAIN, seq: i + 1, requirement: 'a', version: 1, action: i % 2 ? 'withdraw' : 'grant',
      state: i % 2 ? 'denied' : 'granted', source: 'app', at: 1000 + i, ...personal,
      personalDigest: personalDigest(KEY, personal), context: null,
    };
  });
  const last = count - 1;
  const records: CurrentRecord[] = count === 0 ? [] : [{ ...emptyRecord('a'), decision: last % 2 ? 'denied' : 'granted', version: 1, decidedAt: 1000 + last }];
  const sealed = sealChain(KEY, NEW, drafts, drafts.map((_, i) => String(10 + i)), records);
  return { events: sealed.events, head: { ...sealed.head, records } };
}

/** Runs the verifier; `stored` leaves out the previous hashes, as a store that does not keep them reads events back. */
function runWith(head: SealedHead | null, events: StoredEvent[], stored: boolean) {
  const verifier = new ChainVerifier(KEY);
  verifier.begin(head);
  for (const event of events) verifier.push(stored ? { ...event, prevHash: '' } : { ...event });
  verifier.end();
  return verifier.result();
}

for (const stored of [false, true]) describe(`ChainVerifier (pure${stored ? '; previous hashes taken from the predecessor, as the Knex tracker reads events' : ''})`, () => {
  const run = (head: SealedHead | null, events: StoredEvent[]) => runWith(head, events, stored);

  it('passes an intact chain and counts its events', () => {
    const { events, head } = chainOf(5);
    expect(run(head, events)).to.deep.equal({ ok: true, checked: 5, problems: [] });
  });

  it('names every kind of damage', () => {
    const { events, head } = chainOf(6);
    const ids = events.map((e) => e.id);
    const without = (i: number) => events.filter((_, j) => j !== i);
    expect(run(head, without(0)).problems).to.deep.equal([{ eventId: ids[0], kind: 'deleted' }]);
    expect(run(head, without(5)).problems).to.deep.equal([{ eventId: ids[5], kind: 'truncated' }]);
    expect(run(head, events.map((e, i) => (i === 2 ? { ...e, requirement: 'b' } : e))).problems)
      .to.deep.equal([{ eventId: ids[2], kind: 'modified' }]);
    expect(run(head, events.map((e, i) => (i === 5 ? { ...e, at: 1 } : e))).problems)
      .to.deep.equal([{ eventId: ids[5], kind: 'modified' }], 'the head names the last event');
    expect(run(head, events.map((e, i) => (i === 1 ? { ...e, note: 'other' } : e))).problems)
      .to.deep.equal([{ eventId: ids[1], kind: 'modified' }]);
    const swapped = events.map((e, i) => (i === 1 ? { ...events[2]!, seq: 2 } : i === 2 ? { ...events[1]!, seq: 3 } : e));
    expect(run(head, swapped).problems).to.have.deep.members([{ eventId: ids[2], kind: 'reordered' }, { eventId: ids[1], kind: 'reordered' }]);
    const forged = { ...events[5]!, id: '99', seq: 7, prevId: ids[5]!, prevHash: events[5]!.hash };
    expect(run(head, [...events, forged]).problems).to.deep.equal([{ eventId: '99', kind: 'inserted' }]);
    const replaced = events.map((e, i) => (i === 3 ? { ...e, id: '77' } : e));
    expect(run(head, replaced).problems).to.deep.equal([{ eventId: '77', kind: 'modified' }], 'sealed under the id its successor names');
    const impostor = events.map((e, i) => (i === 3 ? { ...e, id: '77', action: 'deny' as const } : e));
    expect(run(head, impostor).problems).to.deep.equal([{ eventId: '77', kind: 'inserted' }], 'nothing vouches for it');
  });

  it('names events that continue the chain beyond a head set back as rollback, and a forged one after them as inserted', () => {
    const { events } = chainOf(6);
    const { head: earlier } = chainOf(4);
    const ids = events.map((e) => e.id);
    const rolledBack = (i: number) => ({ eventId: ids[i], kind: 'rollback', chain: CHAIN });
    expect(run(earlier, events).problems).to.deep.equal([rolledBack(4), rolledBack(5)]);
    const forged = { ...events[5]!, id: '99', seq: 7, prevId: ids[5]!, prevHash: events[5]!.hash };
    expect(run(earlier, [...events, forged]).problems).to.deep.equal([rolledBack(4), rolledBack(5), { eventId: '99', kind: 'inserted' }]);
    const changed = events.map((e, i) => (i === 5 ? { ...e, action: 'grant' as const, state: 'granted' as const } : e));
    expect(run(earlier, changed).problems).to.deep.equal([rolledBack(4), { eventId: ids[5], kind: 'inserted' }], 'what does not continue the chain under its seal');
  });

  it('names events whose ids were exchanged or passed round within the chain as reordered', () => {
    const { events, head } = chainOf(6);
    const ids = events.map((e) => e.id);
    const withIds = (moved: Record<number, number>) => events.map((e, i) => (i in moved ? { ...e, id: ids[moved[i] as number] as string } : e));
    expect(run(head, withIds({ 1: 4, 4: 1 })).problems).to.deep.equal([{ eventId: ids[4], kind: 'reordered' }, { eventId: ids[1], kind: 'reordered' }]);
    expect(run(head, withIds({ 0: 5, 5: 0 })).problems).to.deep.equal([{ eventId: ids[5], kind: 'reordered' }, { eventId: ids[0], kind: 'reordered' }]);
    expect(run(head, withIds({ 0: 2, 2: 4, 4: 0 })).problems.map((p) => [p.eventId, p.kind])).to.deep.equal([
      [ids[2], 'reordered'], [ids[4], 'reordered'], [ids[0], 'reordered'],
    ]);
    // One event took another's id, which itself got a fresh one: only the first carries an id sealed elsewhere.
    const taken = events.map((e, i) => (i === 1 ? { ...e, id: ids[2] as string } : i === 2 ? { ...e, id: '88' } : e));
    expect(run(head, taken).problems).to.deep.equal([{ eventId: ids[2], kind: 'reordered' }, { eventId: '88', kind: 'modified' }]);
  });

  it('accepts a subject whose first write added nothing, but not events under an unsealed head', () => {
    const empty = { chain: CHAIN, pseudonym: 'p', seq: 0, hash: GENESIS, id: null, erased: false, mac: '', records: [] };
    expect(run(empty, [])).to.deep.equal({ ok: true, checked: 0, problems: [] });
    const { events } = chainOf(1);
    expect(run(empty, events).problems).to.deep.equal([{ eventId: events[0]!.id, kind: 'truncated' }], 'the head does not match its events');
  });

  it('reports a rewound head as truncated and accepts redacted fields only in a chain sealed as erased', () => {
    const { events, head } = chainOf(3);
    expect(run({ ...head, seq: 2, hash: events[1]!.hash, id: events[1]!.id }, events.slice(0, 2)).problems.map((p) => p.kind)).to.deep.equal(['truncated']);
    const redacted = events.map((e) => ({ ...e, note: null }));
    expect(run(head, redacted).problems).to.have.length(3);
    const erasedHead = { ...sealChain(KEY, { ...NEW, seq: 3, hash: head.hash, headId: head.id, mac: head.mac, records: head.records }, [], [], [], true).head, records: [] };
    expect(erasedHead.pseudonym).to.equal(null);
    expect(run(erasedHead, redacted)).to.deep.include({ ok: true, checked: 3 });
    expect(run({ ...head, erased: true }, redacted).problems.map((p) => p.kind))
      .to.deep.equal(['modified', 'modified', 'modified', 'subject_link'], 'the erased flag is sealed');
  });
});
