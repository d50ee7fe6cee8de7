import type { DraftEvent, SealedWrite, SubjectSnapshot } from '../tracker/records';
import { eventHash, headMac } from './chain';

/**
 * Chains drafted events onto a subject's chain once their ids are known, and seals the new
 * head. Pure.
 *
 * @throws Error when the ids do not match the drafts.
 */
export function sealChain(
  key: Buffer,
  snapshot: Pick<SubjectSnapshot, 'chain' | 'seq' | 'hash' | 'headId'>,
  drafts: DraftEvent[],
  ids: string[],
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
  return { events, head: { ...fields, mac: headMac(key, fields) } };
}

/**
 * `sealChain` as a plan's `seal`, remembering its last result: sealing again with the same ids
 * (a batch prepared ahead of its transaction and written as prepared) hashes nothing again. Pure.
 */
export function chainSealer(
  key: Buffer,
  snapshot: Pick<SubjectSnapshot, 'chain' | 'seq' | 'hash' | 'headId'>,
  drafts: DraftEvent[],
  erased = false,
): (ids: string[]) => SealedWrite {
  let last: { ids: string[]; sealed: SealedWrite } | null = null;
  return (ids) => {
    if (last === null || last.ids.length !== ids.length || !last.ids.every((id, i) => id === ids[i])) {
      last = { ids: [...ids], sealed: sealChain(key, snapshot, drafts, ids, erased) };
    }
    return last.sealed;
  };
}
