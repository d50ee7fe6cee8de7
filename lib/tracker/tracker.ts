import type {
  BatchPlanner,
  ChainHead,
  ClaimedOutboxEntry,
  CurrentRecord,
  LapsedGrant,
  LedgerPageEntry,
  LedgerHead,
  PendingMatch,
  PreparedBatch,
  StoredEvent,
  StoredRequirementVersion,
  SubjectSnapshot,
  SyncOutcome,
  WritePlan,
} from './records';
import type { AuditEvent, AuditQuery, StateGroup } from './admin-records';

/** Options of `ConsentTracker.history`. */
export interface TrackerHistoryQuery {
  requirement?: string;
  /** Only events with a lower sequence number (the cursor). */
  beforeSeq?: number;
  limit: number;
}

/** What `ConsentTracker.subscribe` calls. */
export interface ChangeHandlers {
  onChange(pseudonym: string): void;
  onReset(): void;
  onError(error: unknown): void;
}

/** Options of `ConsentTracker.scanEvents`: a keyset page of events in (chain, seq) order. */
export interface EventScanQuery {
  /** Only this chain's events. */
  chain?: string;
  /** Only events after this position in (chain, seq) order (the previous page's last event). */
  after?: { chain: string; seq: number };
  limit: number;
}

/** Options of `ConsentTracker.heads`: chain heads in chain order. */
export interface HeadScanQuery {
  /** Only chains after this one. */
  after?: string;
  /** Only these chains. */
  chains?: string[];
  /** Only the chain currently linked to this pseudonym. */
  pseudonym?: string;
  limit: number;
}

/**
 * The storage seam. The library hands a tracker only pseudonyms, validated values and plans
 * computed by its pure core, so a tracker is a thin, atomic edge over some store.
 *
 * Run `trackerConformance()` from `express-consent/testing` against any implementation.
 * Every method may reject; the library turns a rejection into `store_unavailable` and never
 * reads it as consent.
 */
export interface ConsentTracker {
  /**
   * Required. Prepares the store (runs migrations when `migrate` is true, else checks that
   * the schema is current) and rejects with `schema_mismatch` for a store written by a newer
   * release.
   */
  init(options: { migrate: boolean }): Promise<void>;

  /**
   * Required. Returns the stored secret if there is one; otherwise stores `candidate` and
   * returns it. Atomic across processes sharing the store: every caller gets the same secret.
   */
  secret(candidate: string): Promise<string>;

  /**
   * Required. Stores a requirement version, or checks it against the stored one: `downgrade`
   * when a higher version is stored, `text_changed` when the stored text differs and an event
   * references that version (an unreferenced text is replaced).
   */
  syncRequirement(version: StoredRequirementVersion): Promise<SyncOutcome>;

  /** Required. Every stored version of the given requirements, oldest first. */
  requirementVersions(ids: string[]): Promise<StoredRequirementVersion[]>;

  /** Required. The subject's current records: the guard's hot path, one cheap read. */
  current(pseudonym: string): Promise<CurrentRecord[]>;

  /**
   * Required. One atomic read-modify-write for a subject: reads its snapshot (creating the
   * subject's chain on first use) under a lock that serialises writers of the same subject,
   * calls `plan` (pure, synchronous; its throw aborts everything), assigns the drafted events
   * ids unique across the store (positive integers below 2^63, as decimal strings), calls `plan.seal(ids, ledgerTail)` (passing the ledger's
   * newest entry, read under a lock that serialises chain creation, when the chain is new),
   * then appends the sealed events, writes the ledger entry and head, replaces the records,
   * all committed together before resolving. Resolves to the ids of the appended events.
   */
  write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }>;

  /**
   * Recommended (bulk import). `write` for many subjects in one transaction: for each subject
   * (in pseudonym order, so concurrent batches cannot deadlock), exactly what `write` does —
   * snapshot under the subject's lock, `plan(pseudonym, snapshot)`, ids, seal, ledger entry,
   * head, records, outbox — everything committed together. Without it, `import()` falls back
   * to one `write` per subject.
   */
  writeMany?(pseudonyms: string[], plan: BatchPlanner, prepared?: PreparedBatch | null): Promise<void>;

  /**
   * Optional (bulk import, with `writeMany`). The part of `writeMany` that needs no lock, done
   * ahead while the previous batch is still being written: plans every subject as a new one,
   * reserves its ids and seals it. `writeMany(pseudonyms, plan, prepared)` with the same
   * pseudonyms and planner then checks inside its transaction that every subject was indeed new
   * and the ids are still free, and writes the prepared rows; when a check fails it plans and
   * seals again, exactly as without `prepared`. Resolves to null when nothing was prepared.
   */
  prepareMany?(pseudonyms: string[], plan: BatchPlanner): Promise<PreparedBatch | null>;

  /** Required. The subject's events, newest first (by sequence number). */
  history(pseudonym: string, query: TrackerHistoryQuery): Promise<StoredEvent[]>;

  /**
   * Optional. Watches writes by every process sharing the store: calls `onChange(pseudonym)`
   * after each committed write of a subject, and `onReset()` when notifications may have been
   * missed (a dropped connection). Resolves to a function that stops watching, or null when
   * the store cannot notify (the state cache then relies on its lifetime alone).
   */
  subscribe?(handlers: ChangeHandlers): Promise<(() => Promise<void>) | null>;

  /**
   * Required (proof). A page of events in (chain, seq) order, all fields included. Each call is
   * one short read, so a long scan never holds the store (SQLite has one connection).
   */
  scanEvents(query: EventScanQuery): Promise<StoredEvent[]>;

  /**
   * Required (proof). A page of chain heads in chain order: the protected head of every chain,
   * erased ones included.
   */
  heads(query: HeadScanQuery): Promise<ChainHead[]>;

  /**
   * Required (proof). A page of the ledger of chains in entry order (`n` above `after`), each
   * entry best with its chain head's seq (`headSeq`).
   */
  ledger(query: { after?: number; limit: number }): Promise<LedgerPageEntry[]>;

  /** Required (proof). The ledger's sealed newest entry; null before the first chain. */
  ledgerHead(): Promise<LedgerHead | null>;

  /**
   * Required (erasure, GDPR Art. 17). Like `write` for the subject's existing chain (never creating
   * one): appends the planned erase event with the head the plan seals, then in the same
   * transaction removes the personal fields (actor, note, data, ip, userAgent) of every other
   * event of the chain, deletes its current records (and with them pending token hashes) and
   * unlinks the pseudonym, marking the chain erased. Resolves to the number of events redacted (the erase
   * event not counted), or null when the subject has no chain.
   */
  erase(pseudonym: string, plan: (snapshot: SubjectSnapshot) => WritePlan): Promise<number | null>;

  /**
   * Required. Like `secret`, for other generated values (the development receipt key): returns
   * the value stored under `name`, storing `candidate` first if there is none. Atomic.
   */
  setting(name: string, candidate: string): Promise<string>;

  /**
   * Recommended (double opt-in). The record whose `pendingToken` equals `tokenHash`, with its
   * subject's pseudonym; null when none. Without it, confirmation links answer `token_invalid`.
   */
  findPending?(tokenHash: string): Promise<PendingMatch | null>;

  /**
   * Recommended (`sweep()`). Records with decision `granted`, `expiresAt <= now` and
   * `expiryRecorded` false, ordered by `key`, only those after `after`, at most `limit`.
   */
  lapsedGrants?(query: { now: number; limit: number; after?: string }): Promise<LapsedGrant[]>;

  /**
   * Required for durable handlers. Claims up to `limit` outbox entries of the given handlers
   * that are available at `now` and not claimed by another process (or whose claim lapsed),
   * until `now + leaseMs`. Two concurrent callers never claim the same entry.
   * `write()` must insert `plan.outbox` in the same transaction as the events.
   */
  claimOutbox?(query: { handlers: string[]; now: number; leaseMs: number; limit: number }): Promise<ClaimedOutboxEntry[]>;

  /** Required for durable handlers. Deletes a delivered entry. */
  completeOutbox?(id: string): Promise<void>;

  /** Required for durable handlers. Releases a claimed entry for another attempt at `availableAt`. */
  retryOutbox?(entry: ClaimedOutboxEntry, availableAt: number): Promise<void>;

  /**
   * Optional (admin routes `GET /admin/events` and `/admin/export`). A keyset page of events
   * of every subject, filtered, ordered by event id (`newest` or `oldest` first), each with
   * the pseudonym currently linked to its chain (null once erased). Without it those routes
   * answer 500.
   */
  auditEvents?(query: AuditQuery): Promise<AuditEvent[]>;

  /**
   * Optional (admin route `GET /admin/stats`). Aggregates computed by the store, never by
   * reading every row: the number of linked subjects, current records grouped by what decides
   * their state at `now`, and event counts per action.
   */
  stats?(now: number): Promise<{ subjects: number; groups: StateGroup[]; actions: Record<string, number> }>;

  /** Optional. Releases what the tracker opened itself. */
  close?(): Promise<void>;
}
