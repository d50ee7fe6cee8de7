import type { DraftEvent, LedgerTail, SealedWrite, SubjectSnapshot } from '../tracker/records';
import { eventHash, headMac, ledgerHeadMac, ledgerMac } from './chain';

/**
 * Chains drafted events onto a subject's chain once their ids are known, seals the new head
 * and, for a chain's first events, writes its ledger entry. Pure.
 *
 * @throws Error when the ids do not match the drafts, or a new chain comes without its ledger tail.
 */
export function sealChain(
  key: Buffer,
  snapshot: Pick<SubjectSnapshot, 'chain' | 'seq' | 'hash' | 'headId'>,
  drafts: DraftEvent[],
  ids: string[],
  ledger: LedgerTail | null,
  erased = false,
): SealedWrite {
  if (ids.length !== drafts.length) throw new Error('sealChain: one id per drafted event');
  let prevHash = snapshot.hash;
  let prevId = snapshot.headId;
  const events = drafts.map((draft, i) => {
    const id = ids[i] as string;
    const hash = eventHash(key, prevHash, {
      chain: draft.chain,
      seq: draft.seq,
      id,
      prevId,
      requirement: draft.requirement,
      version: draft.version,
      action: draft.action,
      state: draft.state,
      source: draft.source,
      actor: draft.actor,
      at: draft.at,
      personalDigest: draft.personalDigest,
    });
    // A literal rather than a spread: one object shape for every event of a large import.
    const event = {
      id,
      chain: draft.chain,
      seq: draft.seq,
      requirement: draft.requirement,
      version: draft.version,
      action: draft.action,
      state: draft.state,
      source: draft.source,
      actor: draft.actor,
      at: draft.at,
      note: draft.note,
      data: draft.data,
      ip: draft.ip,
      userAgent: draft.userAgent,
      personalDigest: draft.personalDigest,
      prevId,
      prevHash,
      hash,
    };
    prevHash = hash;
    prevId = id;
    return event;
  });
  const seq = events.length > 0 ? (events[events.length - 1] as { seq: number }).seq : snapshot.seq;
  const fields = { chain: snapshot.chain, seq, hash: prevHash, id: prevId, erased };
  const head = { ...fields, mac: headMac(key, fields) };
  if (snapshot.seq !== 0 || events.length === 0) return { events, head, ledger: null };
  if (!ledger) throw new Error('sealChain: a new chain needs the ledger tail');
  const entry = { n: ledger.n + 1, chain: snapshot.chain, firstId: ids[0] as string, prevFirstId: ledger.firstId };
  return {
    events,
    head,
    ledger: {
      entry: { ...entry, mac: ledgerMac(key, entry) },
      head: { n: entry.n, firstId: entry.firstId, mac: ledgerHeadMac(key, entry.n, entry.firstId) },
    },
  };
}
