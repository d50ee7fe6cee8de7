import { ConsentIntegrityError } from '../errors';
import type { CurrentRecord, DraftEvent, SealedWrite, SubjectSnapshot } from '../tracker/records';
import { eventHash } from './chain';
import { headSeal, recordsAfter, snapshotSealed } from './head-seal';

/**
 * Chains drafted events onto a subject's chain once their ids are known, and seals the new head
 * (position, link and the records after the write: the snapshot's, replaced by `changed`; none
 * once `erased`). Pure.
 *
 * @throws ConsentIntegrityError when the snapshot is not the one the library sealed: a write
 *   never builds on (and so never seals) rows changed behind its back.
 * @throws Error when the ids do not match the drafts.
 */
export function sealChain(
  key: Buffer,
  snapshot: SubjectSnapshot,
  drafts: DraftEvent[],
  ids: string[],
  changed: readonly CurrentRecord[],
  erased = false,
): SealedWrite {
  if (ids.length !== drafts.length) throw new Error('sealChain: one id per drafted event');
  if (!snapshotSealed(key, snapshot)) {
    throw new ConsentIntegrityError("the subject's stored head, link or records fail their seal: the write was refused");
  }
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
      context: draft.context,
      locale: draft.locale ?? null,
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
      personalSalt: draft.personalSalt ?? null,
      context: draft.context,
      locale: draft.locale ?? null,
      prevId,
      prevHash,
      hash,
    };
    prevHash = hash;
    prevId = id;
    return event;
  });
  const seq = events.length > 0 ? (events[events.length - 1] as { seq: number }).seq : snapshot.seq;
  const fields = { chain: snapshot.chain, pseudonym: erased ? null : snapshot.pseudonym, seq, hash: prevHash, id: prevId, erased };
  return { events, head: { ...fields, mac: headSeal(key, fields, erased ? [] : recordsAfter(snapshot.records, changed)) } };
}

/**
 * `sealChain` as a plan's `seal`, remembering its last result: sealing again with the same ids
 * (a batch prepared ahead of its transaction and written as prepared) hashes nothing again. Pure.
 */
export function chainSealer(
  key: Buffer,
  snapshot: SubjectSnapshot,
  drafts: DraftEvent[],
  changed: readonly CurrentRecord[],
): (ids: string[]) => SealedWrite {
  let last: { ids: string[]; sealed: SealedWrite } | null = null;
  return (ids) => {
    if (last === null || last.ids.length !== ids.length || !last.ids.every((id, i) => id === ids[i])) {
      last = { ids: [...ids], sealed: sealChain(key, snapshot, drafts, ids, changed) };
    }
    return last.sealed;
  };
}
