import type { SealedHead, StoredEvent } from '../tracker/records';
import { GENESIS, legacyHeadMac } from './chain';
import { EventSeals } from './event-seals';
import { headSealed, isUnsealedEmpty } from './head-seal';
import type { IntegrityKind, IntegrityProblem, VerifyResult } from './integrity';
import { InTurn, RecentHashes } from './recent-hashes';
import { RecordReplay } from './record-replay';
import { RenamedEvents } from './renamed-events';

export type { IntegrityKind, IntegrityProblem, VerifyResult } from './integrity';

// How far from its stored position a moved event is looked for, on each side.
const REORDER_WINDOW = 64;
// Hashes of a chain's recent events kept by id, to find an event's predecessor when the store
// does not keep its hash (`prevHash` empty).
const RECENT_HASHES = 4 * REORDER_WINDOW;

/**
 * Verifies chains from a stream of their events in (chain, seq) order, one chain at a time:
 * `begin(head)`, `push(event)` for each of its events, `end()`. Memory does not grow with the
 * number of events: it holds the previous event, at most one undecided one, the hashes of the
 * chain's recent events, and the events of the current chain found under another id. Pure.
 *
 * An event whose hash fails is `reordered` when it verifies at another position nearby,
 * `modified` when its successor (or the head) still names it, else `inserted`; a gap in the
 * sequence is `deleted`, named by the successor's `prevId`; a head ahead of the last event is
 * `truncated`, named by the head. An event that verifies only under the id its successor (or
 * the head) names was given another id: when that id was sealed to another event of the same
 * chain (ids exchanged, or passed round), each such event is `reordered`, named by the id it
 * now carries; otherwise it is `modified`. An event read without its predecessor's hash takes
 * it from the event its `prevId` names, once that one is read.
 *
 * An event beyond a head whose seal checks is `rollback` when it continues the chain under its
 * seal (its predecessor's hash, its own at its position): the library wrote it, and the head was
 * put back from an earlier copy; otherwise it is `inserted`.
 *
 * A head whose seal fails, at the position of the chain's last event, has had its subject's
 * records or link changed: each record that its events contradict (or missing, or extra) is a
 * `state_mismatch`; when they all agree, the link (the pseudonym, or a member only the seal
 * covers) is a `subject_link`, as are events whose subject row is gone. With `legacy` (an
 * upgraded store, before it is sealed again) the head is checked against the seal of release 1,
 * every record against the events, and an event may be sealed in the format of release 1.
 */
export class ChainVerifier {
  readonly problems: IntegrityProblem[] = [];
  checked = 0;
  private head: SealedHead | null = null;
  private headOk = false;
  private last: StoredEvent | null = null;
  /** The last event beyond the head that continued the chain (`beyond`). */
  private beyondLast: StoredEvent | null = null;
  private undecided: StoredEvent | null = null;
  /** Events of the current chain found under another id. */
  private readonly renamed = new RenamedEvents();
  private readonly hashes = new RecentHashes(RECENT_HASHES);
  /** Events waiting for the predecessor their `prevId` names, by that id. */
  private readonly waiting = new Map<string, StoredEvent[]>();
  private readonly deleted = new Set<string>();
  private replay: RecordReplay | null = null;
  private readonly seals: EventSeals;
  /** Events whose hash was found elsewhere to be their HMAC with the given previous hash (`vouch`). */
  private readonly vouched = new InTurn<StoredEvent, string>();
  private readonly vouchedHeads = new InTurn<SealedHead, true>();
  /** The event being pushed, and the previous hash its hash was vouched for with. */
  private current: StoredEvent | null = null;
  private currentPrevious: string | undefined;

  constructor(private readonly key: Buffer, private readonly legacy = false) {
    this.seals = new EventSeals(key, legacy);
  }

  /** Starts a chain; `head` is null when the chain has events but no stored head. */
  begin(head: SealedHead | null): void {
    this.head = head;
    this.last = null;
    this.beyondLast = null;
    this.undecided = null;
    // Emptied when used (most chains leave them empty): new ones for every chain were garbage.
    this.renamed.clear();
    if (this.waiting.size > 0) this.waiting.clear();
    if (this.deleted.size > 0) this.deleted.clear();
    this.hashes.clear();
    this.headOk = head !== null && this.sealOk(head);
    this.replay = head !== null && (this.legacy || !this.headOk) ? new RecordReplay() : null;
  }

  /**
   * Notes, before `event` is pushed, that its hash is the `eventHash` it has after a predecessor
   * whose hash is `previous` (computed elsewhere, on a worker thread): taken then as computed.
   * Events are noted in the order they are pushed (one noted out of turn is computed here).
   */
  vouch(event: StoredEvent, previous: string): void {
    this.vouched.add(event, previous);
  }

  /** Notes, before `begin(head)`, that `headSeal` of the head and its records is its seal (computed elsewhere; in turn, as `vouch`). */
  vouchHead(head: SealedHead): void {
    this.vouchedHeads.add(head, true);
  }

  push(event: StoredEvent): void {
    this.current = event;
    this.currentPrevious = this.vouched.take(event);
    this.pushEvent(event);
    this.current = null;
  }

  private pushEvent(event: StoredEvent): void {
    this.checked += 1;
    if (this.undecided) this.decide(this.undecided, event.prevId);
    const expected = (this.last?.seq ?? 0) + 1;
    const beyondHead = this.headOk && event.seq > (this.head as SealedHead).seq;
    if (beyondHead) {
      this.beyond(event);
      return;
    }
    this.replay?.push(event);
    if (event.seq > expected) {
      if (event.prevId !== null) this.deleted.add(event.prevId);
      this.report(event.prevId ?? `${event.chain}:${String(expected)}`, 'deleted');
    }
    const before = this.last;
    this.last = event;
    const found = event.prevHash === '' ? this.derivePrevious(event, before) : 'derived';
    this.hashes.set(event.id, event.hash);
    if (found === 'wait') {
      this.wait(event);
      return;
    }
    if (found === 'verified') {
      if (!this.personalOk(event)) this.report(event.id, 'modified');
    } else {
      this.check(event, true);
    }
    this.release(event.id);
  }

  /**
   * An event after the head's position: `rollback` (with its chain) when it continues the chain
   * from the head's event, or from the event before it that did, under its seal; else `inserted`.
   */
  private beyond(event: StoredEvent): void {
    const before = this.beyondLast ?? this.last;
    const continues = before !== null && before.seq === event.seq - 1 && event.prevId === before.id && (event.prevHash === '' || event.prevHash === before.hash);
    if (continues) event.prevHash = before.hash;
    if (!continues || !this.sealedAt(event, event.seq)) {
      this.report(event.id, 'inserted');
      return;
    }
    this.beyondLast = event;
    this.problems.push({ eventId: event.id, kind: 'rollback', chain: event.chain });
    if (!this.personalOk(event)) this.report(event.id, 'modified');
  }

  /**
   * Fills in the hash of an event's predecessor when the store did not keep it: the event read
   * just before it (one seq lower), when the event's hash verifies so; else the event its
   * `prevId` names, once read (it may come later: a moved event). `verified` when the event's
   * hash checked already, `wait` when its predecessor is still to come.
   */
  private derivePrevious(event: StoredEvent, before: StoredEvent | null): 'verified' | 'derived' | 'wait' {
    const inStream = event.prevId === null ? GENESIS : before !== null && before.seq === event.seq - 1 ? before.hash : undefined;
    if (inStream !== undefined) {
      event.prevHash = inStream;
      if (this.sealedAt(event, event.seq)) return 'verified';
    }
    if (event.prevId === null) return 'derived';
    // The predecessor may carry another id than the one it was sealed with (and this event names).
    const named = this.hashes.get(this.renamed.carrierOf(event.prevId) ?? event.prevId);
    if (named !== undefined) {
      event.prevHash = named;
      return 'derived';
    }
    event.prevHash = '';
    return 'wait';
  }

  end(): void {
    const head = this.head;
    if (this.undecided) this.decide(this.undecided, head?.id ?? null);
    this.undecided = null;
    for (const [prevId, events] of this.waiting) {
      // The successor of a deleted event is reported with the deletion; another names an event that never was.
      if (!this.deleted.has(prevId)) for (const event of events) this.report(event.id, 'modified');
    }
    this.waiting.clear();
    // Events without a subject row: no write deletes one that has events (an erasure keeps it).
    if (!head && this.last !== null) this.problems.push({ eventId: this.last.id, kind: 'subject_link', chain: this.last.chain });
    if (!head) return;
    // A subject row whose first write added no events: nothing was ever sealed. (A chain that
    // lost everything and was reset so is still caught: the log names its events.)
    if (this.last === null && isUnsealedEmpty({ ...head, headId: head.id })) return;
    const position = head.id ?? this.last?.id ?? `${head.chain}:${String(head.seq)}`;
    // A head read through the event it names fails its seal when that id was exchanged (reordered).
    if (!this.headOk && !this.problems.some((p) => p.eventId === position && p.kind === 'reordered')) {
      const moved = this.legacy || (this.last?.seq ?? 0) !== head.seq || (this.last?.id ?? null) !== head.id || (this.last?.hash ?? GENESIS) !== head.hash;
      if (moved || (this.replay as RecordReplay).rewoundFrom(head.records, this.last?.at ?? -Infinity)) this.report(position, 'truncated');
      else if (this.recordsMatch(head)) this.problems.push({ eventId: position, kind: 'subject_link', chain: head.chain });
    } else if (this.headOk && (this.last?.seq ?? 0) < head.seq) {
      this.report(position, 'truncated');
    }
    if (this.legacy) this.recordsMatch(head);
  }

  /**
   * Whether the events pushed so far verify: no problem found, and none still to be decided or
   * waiting for its predecessor. A stream checks each page so before passing it on.
   */
  clean(): boolean {
    return this.problems.length === 0 && this.undecided === null && this.waiting.size === 0;
  }

  /** The result so far. */
  result(): VerifyResult {
    return { ok: this.problems.length === 0, checked: this.checked, problems: this.problems };
  }

  report(eventId: string, kind: IntegrityKind): void {
    this.problems.push({ eventId, kind });
  }

  private sealOk(head: SealedHead): boolean {
    if (this.legacy) return legacyHeadMac(this.key, head) === head.mac;
    if (this.vouchedHeads.take(head) === true) return true;
    return headSealed(this.key, head);
  }

  /** Reports each record the chain's events contradict; true when there is none. */
  private recordsMatch(head: SealedHead): boolean {
    const mismatches = (this.replay as RecordReplay).mismatches(head.records);
    for (const { requirement, eventId } of mismatches) {
      this.problems.push({ eventId: eventId ?? `${head.chain}:${String(head.seq)}`, kind: 'state_mismatch', chain: head.chain, requirement });
    }
    return mismatches.length === 0;
  }

  /** Checks an event's hash and personal digest, its predecessor's hash known. */
  private check(event: StoredEvent, inStream: boolean): void {
    if (!this.sealedAt(event, event.seq)) {
      if (this.movedFrom(event) !== null) this.report(event.id, 'reordered');
      else if (inStream) this.undecided = event;
      else this.report(event.id, 'modified');
      return;
    }
    if (!this.personalOk(event)) this.report(event.id, 'modified');
  }

  private wait(event: StoredEvent): void {
    const prevId = event.prevId as string;
    const list = this.waiting.get(prevId);
    if (list) list.push(event);
    else this.waiting.set(prevId, [event]);
  }

  /** Checks the events that waited for `id`, now that its hash is known (and those that waited for them). */
  private release(id: string): void {
    if (this.waiting.size === 0) return;
    const events = this.waiting.get(id);
    if (events === undefined) return;
    this.waiting.delete(id);
    const hash = this.hashes.get(id) as string;
    for (const event of events) {
      event.prevHash = hash;
      this.check(event, false);
      this.release(event.id);
    }
  }

  /** Classifies an event whose hash failed, once we know the id its successor (or the head) names. */
  private decide(event: StoredEvent, named: string | null): void {
    this.undecided = null;
    if (named === event.id) this.report(event.id, 'modified');
    else if (named !== null && this.seals.sealed(event, event.prevHash, { ...event, id: named })) this.problems.push(this.renamed.add(event, named));
    else this.report(event.id, 'inserted');
  }

  /** Whether the event's hash is its hash at `seq` after its predecessor's (`prevHash`). */
  private sealedAt(event: StoredEvent, seq: number): boolean {
    if (event === this.current && seq === event.seq && event.prevHash === this.currentPrevious) return true;
    // The hash covers exactly the chained members, so the event itself serves at its own seq.
    return this.seals.sealed(event, event.prevHash, seq === event.seq ? event : { ...event, seq });
  }

  private movedFrom(event: StoredEvent): number | null {
    const top = this.headOk ? (this.head as SealedHead).seq : event.seq + REORDER_WINDOW;
    for (let seq = Math.max(1, event.seq - REORDER_WINDOW); seq <= Math.min(top, event.seq + REORDER_WINDOW); seq += 1) {
      if (seq !== event.seq && this.sealedAt(event, seq)) return seq;
    }
    return null;
  }

  private personalOk(event: StoredEvent): boolean {
    return this.seals.personalOk(event, this.headOk && (this.head as SealedHead).erased);
  }
}
