import type { ChainHead, StoredEvent } from '../tracker/records';
import { eventHash, GENESIS, hasNoPersonalFields, headMac } from './chain';
import { PersonalDigestMemo } from './digest-memo';

/**
 * What `verify()` can find wrong with the history. `rollback`: the store does not hold what the
 * global log says it held (an event the log names is gone, or an event is missing from the log,
 * or the log does not extend a checkpoint).
 */
export type IntegrityKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'chain_missing' | 'rollback';

/**
 * One finding: the event concerned and what happened to it. When no event id is known,
 * `eventId` names a position instead: `<chain>:<seq>`, `log:<leaf index>` (a place in the
 * global log), `log` (its sealed head) or `checkpoint:<size>`.
 */
export interface IntegrityProblem {
  eventId: string;
  kind: IntegrityKind;
}

/** What `verify()` resolves to. */
export interface VerifyResult {
  ok: boolean;
  /** Events read. */
  checked: number;
  problems: IntegrityProblem[];
}

// How far from its stored position a moved event is looked for, on each side.
const REORDER_WINDOW = 64;

/** An event whose content verifies under another id: the id it carries, and the one it was sealed with. */
interface Renamed {
  problem: IntegrityProblem;
  sealedAs: string;
}

/**
 * Verifies chains from a stream of their events in (chain, seq) order, one chain at a time:
 * `begin(head)`, `push(event)` for each of its events, `end()`. Memory does not grow with the
 * number of events: it holds the previous event, at most one undecided one, and the events of
 * the current chain found under another id. Pure.
 *
 * An event whose hash fails is `reordered` when it verifies at another position nearby,
 * `modified` when its successor (or the head) still names it, else `inserted`; a gap in the
 * sequence is `deleted`, named by the successor's `prevId`; a head ahead of the last event is
 * `truncated`, named by the head. An event that verifies only under the id its successor (or
 * the head) names was given another id: when that id was sealed to another event of the same
 * chain (ids exchanged, or passed round), each such event is `reordered`, named by the id it
 * now carries; otherwise it is `modified`.
 */
export class ChainVerifier {
  readonly problems: IntegrityProblem[] = [];
  checked = 0;
  private head: ChainHead | null = null;
  private headOk = false;
  private last: StoredEvent | null = null;
  private undecided: StoredEvent | null = null;
  /** Events of the current chain found under another id, by the id they now carry and by the sealed one. */
  private renamedByCarried = new Map<string, Renamed>();
  private renamedBySealed = new Map<string, Renamed>();
  private readonly digests: PersonalDigestMemo;

  constructor(private readonly key: Buffer) {
    this.digests = new PersonalDigestMemo(key);
  }

  /** Starts a chain; `head` is null when the chain has events but no stored head. */
  begin(head: ChainHead | null): void {
    this.head = head;
    this.last = null;
    this.undecided = null;
    this.renamedByCarried = new Map();
    this.renamedBySealed = new Map();
    this.headOk = head !== null && headMac(this.key, { chain: head.chain, seq: head.seq, hash: head.hash, id: head.id, erased: head.erased }) === head.mac;
  }

  push(event: StoredEvent): void {
    this.checked += 1;
    if (this.undecided) this.decide(this.undecided, event.prevId);
    const expected = (this.last?.seq ?? 0) + 1;
    const beyondHead = this.headOk && event.seq > (this.head as ChainHead).seq;
    if (beyondHead) {
      this.report(event.id, 'inserted');
      return;
    }
    if (event.seq > expected) this.report(event.prevId ?? `${event.chain}:${String(expected)}`, 'deleted');
    this.last = event;
    if (this.hashAt(event, event.seq) !== event.hash) {
      if (this.movedFrom(event) !== null) this.report(event.id, 'reordered');
      else this.undecided = event;
      return;
    }
    if (!this.personalOk(event)) this.report(event.id, 'modified');
  }

  end(): void {
    const head = this.head;
    if (this.undecided) this.decide(this.undecided, head?.id ?? null);
    this.undecided = null;
    if (!head) return;
    // A subject row whose first write added no events: nothing was ever sealed. (A chain that
    // lost everything and was reset so is still caught: the log names its events.)
    const untouched = head.seq === 0 && head.id === null && head.hash === GENESIS && this.last === null;
    if (untouched) return;
    if (!this.headOk) {
      this.report(head.id ?? this.last?.id ?? `${head.chain}:${String(head.seq)}`, 'truncated');
    } else if ((this.last?.seq ?? 0) < head.seq) {
      this.report(head.id ?? `${head.chain}:${String(head.seq)}`, 'truncated');
    }
  }

  /** The result so far. */
  result(): VerifyResult {
    return { ok: this.problems.length === 0, checked: this.checked, problems: this.problems };
  }

  report(eventId: string, kind: IntegrityKind): void {
    this.problems.push({ eventId, kind });
  }

  /** Classifies an event whose hash failed, once we know the id its successor (or the head) names. */
  private decide(event: StoredEvent, named: string | null): void {
    this.undecided = null;
    if (named === event.id) this.report(event.id, 'modified');
    else if (named !== null && eventHash(this.key, event.prevHash, { ...event, id: named }) === event.hash) this.renamed(event, named);
    else this.report(event.id, 'inserted');
  }

  /** An event sealed as `sealedAs` that carries another id: a swap shows once both ends are seen. */
  private renamed(event: StoredEvent, sealedAs: string): void {
    const problem: IntegrityProblem = { eventId: event.id, kind: 'modified' };
    this.problems.push(problem);
    const entry = { problem, sealedAs };
    this.renamedByCarried.set(event.id, entry);
    this.renamedBySealed.set(sealedAs, entry);
    // This event carries the id sealed to another one, or another one carries this event's.
    const owner = this.renamedBySealed.get(event.id);
    if (owner !== undefined && owner !== entry) problem.kind = 'reordered';
    const taker = this.renamedByCarried.get(sealedAs);
    if (taker !== undefined && taker !== entry) taker.problem.kind = 'reordered';
  }

  private hashAt(event: StoredEvent, seq: number): string {
    // eventHash covers exactly the chained members, so the event itself serves at its own seq.
    return eventHash(this.key, event.prevHash, seq === event.seq ? event : { ...event, seq });
  }

  private movedFrom(event: StoredEvent): number | null {
    const top = this.headOk ? (this.head as ChainHead).seq : event.seq + REORDER_WINDOW;
    for (let seq = Math.max(1, event.seq - REORDER_WINDOW); seq <= Math.min(top, event.seq + REORDER_WINDOW); seq += 1) {
      if (seq !== event.seq && this.hashAt(event, seq) === event.hash) return seq;
    }
    return null;
  }

  private personalOk(event: StoredEvent): boolean {
    // An erased chain (sealed as such in its head) keeps digests of fields that are gone.
    const redacted = hasNoPersonalFields(event);
    if (redacted && this.headOk && (this.head as ChainHead).erased) return true;
    return this.digests.of(event) === event.personalDigest;
  }
}
