import type { BatchPlanner, ClaimedOutboxEntry, LapsedGrant, LeafPosition, LogBlock, LogBlockQuery, LogEntry, LogFold, LogHead, PreparedBatch, SealedHead, StoredEvent, StoredRequirementVersion, SubjectSnapshot, SyncOptions, SyncOutcome, WritePlan } from './records';
import type { ChangeHandlers, EventScanQuery, HeadScanQuery, TrackerHistoryQuery } from './queries';

/**
 * Required: what every tracker implements. Every method may reject; the library turns a
 * rejection into `store_unavailable` and never reads it as consent.
 */
export interface TrackerCore {
  /**
   * Prepares the store (runs migrations when `migrate` is true, else checks that the schema is
   * current) and rejects with `schema_mismatch` for a store written by a newer release.
   */
  init(options: { migrate: boolean }): Promise<void>;

  /**
   * Returns the stored secret if there is one; otherwise stores `candidate` and returns it.
   * Atomic across processes sharing the store: every caller gets the same secret.
   */
  secret(candidate: string): Promise<string>;

  /**
   * Like `secret`, for other generated values (the development receipt key): returns the value
   * stored under `name`, storing `candidate` first if there is none. Atomic.
   */
  setting(name: string, candidate: string): Promise<string>;

  /**
   * Stores a requirement version (its `mac` included), or checks it against the stored one:
   * `downgrade` when a version higher than both it and `options.highestRegistered` is stored
   * (the highest version the host registers: an earlier one registered beside a scheduled one
   * is no downgrade), `text_changed` when the stored text hash differs and an event references
   * that version (an unreferenced version is replaced whole).
   */
  syncRequirement(version: StoredRequirementVersion, options?: SyncOptions): Promise<SyncOutcome>;

  /** Every stored version of the given requirements, oldest first. */
  requirementVersions(ids: string[]): Promise<StoredRequirementVersion[]>;

  /**
   * The subject as stored: its chain's head (with the seal as stored) and every current record,
   * or null when no chain is linked to `pseudonym`. The guard's read on a cache miss: one cheap
   * read. The library checks the seal before it trusts a record.
   */
  current(pseudonym: string): Promise<SubjectSnapshot | null>;

  /**
   * One atomic read-modify-write for a subject: reads its snapshot (creating the subject's chain
   * on first use) under a lock that serialises writers of the same subject, calls `plan` (pure,
   * synchronous; its throw aborts everything), assigns the drafted events ids unique across the
   * store (positive integers below 2^63, as decimal strings), calls `plan.seal(ids)`, then
   * appends the sealed events, writes the head, replaces the records, appends a log entry with
   * the leaves of the appended events (`encodeLeaves`, in order) and inserts `plan.outbox`, all
   * committed together before resolving. A transaction that writes several subjects may append
   * one entry for all of their events. Resolves to the ids of the appended events.
   */
  write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }>;

  /** The subject's events, newest first (by sequence number). */
  history(pseudonym: string, query: TrackerHistoryQuery): Promise<StoredEvent[]>;

  /**
   * Erasure (Art. 17). Like `write` for the subject's existing chain (never creating one):
   * appends the planned erase event with the head the plan seals, then in the same transaction
   * removes the personal fields (actor, note, data, ip, userAgent) of every other event of the
   * chain, deletes its current records (and with them pending token hashes) and outbox entries,
   * and unlinks the pseudonym, marking the chain erased; the erase event enters the log as in
   * `write`. Resolves to the number of events
   * redacted (the erase event not counted), or null when the subject has no chain.
   */
  erase(pseudonym: string, plan: (snapshot: SubjectSnapshot) => WritePlan): Promise<number | null>;

  /** Optional. Releases what the tracker opened itself. */
  close?(): Promise<void>;
}

/**
 * Required: the reads of verification, exports and `stateAt`. Each call is one short read, so a
 * long scan never holds the store (SQLite has one connection).
 */
export interface ProofCapability {
  /** A page of events in (chain, seq) order, all fields included. */
  scanEvents(query: EventScanQuery): Promise<StoredEvent[]>;

  /**
   * A page of chain heads in chain order: the protected head of every chain, erased ones
   * included, each with its pseudonym (null once erased) and its chain's current records. A
   * lookup (`chains` or `pseudonym`) reads each head and its records as one state (one statement,
   * or one snapshot): the library refuses a head with records it did not seal. Each read sees
   * every write committed before it: `verify()` reports a head found behind an event of its
   * chain read before it as put back from an earlier copy.
   */
  heads(query: HeadScanQuery): Promise<SealedHead[]>;

  /**
   * Folds the log entries appended since the last seal into the log's tree, in an order that
   * never changes once sealed and never skips an entry committed later: takes a lock that lets
   * one sealer run at a time (across processes), reads the stored head, calls `fold.begin(head)`,
   * `fold.add(entry)` for each entry that can no longer be preceded by one still uncommitted
   * (storing the blocks it returns), then stores `fold.end(mark)`, where `mark` is where the
   * next seal starts. Writes nothing when there was nothing to fold. Resolves to the head now
   * stored (null when the log is empty); rejects with what `fold.begin` threw.
   */
  sealLog(fold: LogFold): Promise<LogHead | null>;

  /** The stored head of the log; null before the first seal. */
  logHead(): Promise<LogHead | null>;

  /**
   * A page of log entries in sealing order, after the entry keyed `after`: the sealed ones
   * first, then those not sealed yet.
   */
  logEntries(query: { after?: string; limit: number }): Promise<LogEntry[]>;

  /** Stored blocks in index order, from `from` on, or those whose id range holds `containing`. */
  logBlocks(query: LogBlockQuery): Promise<LogBlock[]>;

  /** Up to `count` leaves in log order from a stored position, across entries, as one buffer. */
  logLeaves(query: { from: LeafPosition; count: number }): Promise<Buffer>;
}

/** Recommended: bulk import. Without it, `import()` falls back to one `write` per subject. */
export interface BulkCapability {
  /**
   * `write` for many subjects in one transaction: for each subject (in pseudonym order, so
   * concurrent batches cannot deadlock), exactly what `write` does — snapshot under the
   * subject's lock, `plan(pseudonym, snapshot)`, ids, seal, head, records, outbox, and a log
   * entry for the batch's events — everything committed together.
   */
  writeMany(pseudonyms: string[], plan: BatchPlanner, prepared?: PreparedBatch | null): Promise<void>;

  /**
   * Optional. The part of `writeMany` that needs no lock, done ahead while the previous batch is
   * still being written: plans every subject as a new one, reserves its ids and seals it.
   * `writeMany(pseudonyms, plan, prepared)` with the same pseudonyms and planner then checks
   * inside its transaction that every subject was indeed new and the ids are still free, and
   * writes the prepared rows; when a check fails it plans and seals again, exactly as without
   * `prepared`. Resolves to null when nothing was prepared.
   */
  prepareMany?(pseudonyms: string[], plan: BatchPlanner): Promise<PreparedBatch | null>;
}

/**
 * Optional: cross-process cache freshness. Without it, a cached state lives its `ttlMs`; with
 * it, as long as the feed confirms (`onSynced`) at least once per `ttlMs`, until it changes.
 */
export interface WatchCapability {
  /**
   * Watches writes by every process sharing the store (this one included): calls
   * `onChange(pseudonym)` after each committed write or erasure of a subject, `onReset()` when
   * changes may have been missed (a dropped connection, a change it cannot attribute),
   * `onSynced()` regularly once everything committed before has been reported, and
   * `onError(error)` when the feed breaks (then nothing is trusted beyond `ttlMs` until it
   * calls `onReset()` or `onSynced()` again). Resolves to a function that stops watching, or
   * null when the store cannot notify.
   */
  subscribe(handlers: ChangeHandlers): Promise<(() => Promise<void>) | null>;
}

/** Recommended: `sweep()`. */
export interface LifecycleCapability {
  /**
   * Records with decision `granted`, `expiresAt <= now` and `expiryRecorded` false, ordered by
   * `key`, only those after `after`, at most `limit`. Without it, `sweep()` records nothing.
   */
  lapsedGrants(query: { now: number; limit: number; after?: string }): Promise<LapsedGrant[]>;
}

/**
 * Required for durable handlers (`on(event, handler, { name })`): `write()` inserts
 * `plan.outbox` in the same transaction as the events, and these deliver it.
 */
export interface OutboxCapability {
  /**
   * Claims up to `limit` entries of the given handlers that are available at `now` and not
   * claimed by another process (or whose claim lapsed), oldest first (in the order written, or
   * the order they fall due), until `now + leaseMs`.
   * Only the oldest stored entry of a chain for a handler is claimable: the next one waits until
   * it is deleted (delivered), in order even across retries. Two concurrent callers never claim the same entry.
   */
  claimOutbox(query: { handlers: string[]; now: number; leaseMs: number; limit: number }): Promise<ClaimedOutboxEntry[]>;

  /** Deletes a delivered entry. */
  completeOutbox(id: string): Promise<void>;

  /** Releases a claimed entry for another attempt at `availableAt`, with `entry.attempts + 1` stored (a stale claim changes nothing). */
  retryOutbox(entry: ClaimedOutboxEntry, availableAt: number): Promise<void>;

  /**
   * Whether `entry` is still stored and held by its claim: false once it was deleted (an
   * erasure, a delivery by another process) or claimed by another process after its lease
   * lapsed. Optional within the capability: without it, entries are claimed one at a time.
   */
  outboxClaimed?(entry: ClaimedOutboxEntry): Promise<boolean>;
}

/** The columns of a stored event that its rewrite in the current format changes (its id names it). */
export interface EventRewrite {
  id: string;
  hash: string;
  personalDigest: string | null;
  actor: string | null;
}

/** What `UpgradeSealer.chain` returns for one chain: its events' rewrites, then its head's seal. */
export interface ChainUpgrade {
  /**
   * The rewrite of the chain's next event (passed in seq order), or null when it stays as
   * stored; throws to refuse.
   */
  event(event: StoredEvent): EventRewrite | null;
  /** The seal of the head, once every event of the chain was passed. */
  seal(): string;
}

/** What `UpgradeCapability.sealUpgrade` asks of the library: rewrites and seals, with the secret. */
export interface UpgradeSealer {
  /** Starts on one chain, given its head as it is now; throws to refuse (the transaction then rolls back). */
  chain(head: SealedHead): ChainUpgrade;
  /** The seal of a stored requirement version; throws to refuse. */
  version(version: StoredRequirementVersion): string;
  /**
   * The fold of the global log (as `sealLog` drives it), run last: the upgrade's log, whose
   * entries the migration wrote before it had a head, gets one in the same transaction.
   */
  log: LogFold;
}

/**
 * Optional: for a store whose rows an upgrade left unsealed (a persistent tracker from an older
 * release). Without it, the store has nothing to upgrade.
 */
export interface UpgradeCapability {
  /** Whether the store is marked as upgraded and not yet sealed. */
  sealPending(): Promise<boolean>;
  /**
   * Seals the upgraded store once, under a lock that several processes starting at once wait
   * for: if the mark is still there, passes every head (with its pseudonym and records) to
   * `sealer.chain`, then each of that chain's events in seq order, and every requirement version
   * to `sealer.version`; stores the rewrites and seals they return (a rewritten event's leaf in
   * the global log too), folds the log with `sealer.log` as `sealLog` does, removes the mark, all
   * in one transaction. Resolves to false when another process sealed it first.
   */
  sealUpgrade(sealer: UpgradeSealer): Promise<boolean>;
}
