import { ConsentIntegrityError } from '../errors';
import type { CurrentRecord, DraftEvent, LedgerTail, SealedWrite, SubjectSnapshot } from '../tracker/records';
import { eventHash, ledgerHeadMac, ledgerMac } from './chain';
import { headSeal, recordsAfter, snapshotSealed } from './head-seal';

/**
 * Chains drafted events onto a subject's chain once their ids are known, seals the new head
 * (position, link and the records after the write: the snapshot's, replaced by `changed`; none
 * once `erased`) and, for a chain's first events, writes its ledger entry. Pure.
 *
 * @throws ConsentIntegrityError when the snapshot is not the one the library sealed: a write
 *   never builds on (and so never seals) rows changed behind its back.
 * @throws Error when the ids do not match the drafts, or a new chain comes without its ledger tail.
 */
export function sealChain(
  key: Buffer,
  snapshot: SubjectSnapshot,
  drafts: DraftEvent[],
  ids: string[],
  ledger: LedgerTail | null,
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
  const head = { ...fields, mac: headSeal(key, fields, erased ? [] : recordsAfter(snapshot.records, changed)) };
  return { events, head, ledger: opensChain(snapshot, events) ? ledgerWrite(key, snapshot.chain, ids[0] as string, ledger) : null };
}

/** Whether writing `events` creates the snapshot's chain (and so its ledger entry). */
function opensChain(snapshot: Pick<SubjectSnapshot, 'seq'>, events: readonly unknown[]): boolean {
  return snapshot.seq === 0 && events.length > 0;
}

/** The ledger entry of a new chain whose first event is `firstId`, after `tail`, and the new ledger head. */
function ledgerWrite(key: Buffer, chain: string, firstId: string, tail: LedgerTail | null): NonNullable<SealedWrite['ledger']> {
  if (!tail) throw new Error('sealChain: a new chain needs the ledger tail');
  const entry = { n: tail.n + 1, chain, firstId, prevFirstId: tail.firstId };
  return {
    entry: { ...entry, mac: ledgerMac(key, entry) },
    head: { n: entry.n, firstId: entry.firstId, mac: ledgerHeadMac(key, entry.n, entry.firstId) },
  };
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * `sealChain` as a plan's `seal`, remembering its last events and head: sealing again with the
 * same ids (a batch prepared ahead of its transaction, whose ledger tail is known only inside
 * it) recomputes only the ledger entry instead of hashing every event again. Pure.
 */
export function chainSealer(
  key: Buffer,
  snapshot: SubjectSnapshot,
  drafts: DraftEvent[],
  changed: readonly CurrentRecord[],
): (ids: string[], ledger: LedgerTail | null) => SealedWrite {
  let last: { ids: string[]; sealed: SealedWrite } | null = null;
  return (ids, ledger) => {
    if (last === null || !sameIds(last.ids, ids)) {
      last = { ids: [...ids], sealed: sealChain(key, snapshot, drafts, ids, ledger, changed) };
      return last.sealed;
    }
    const { events, head } = last.sealed;
    return { events, head, ledger: opensChain(snapshot, events) ? ledgerWrite(key, snapshot.chain, ids[0] as string, ledger) : null };
  };
}
