import type {
  BatchPlanner,
  CurrentRecord,
  StoredEvent,
  StoredRequirementVersion,
  SubjectSnapshot,
  SyncOutcome,
  WritePlan,
} from './records';

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
   * calls `plan` (pure, synchronous; its throw aborts everything), then appends the events,
   * replaces the records and moves the chain head, all committed together before resolving.
   * Resolves to the ids of the appended events, in order.
   */
  write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }>;

  /**
   * Recommended (bulk import). `write` for many subjects in one transaction: reads every
   * subject's snapshot (creating missing chains) under the same locks as `write`, calls `plan`
   * once, then appends all events, replaces the records and moves the heads, committed
   * together. Without it, `import()` falls back to one `write` per subject.
   */
  writeMany?(pseudonyms: string[], plan: BatchPlanner): Promise<void>;

  /** Required. The subject's events, newest first (by sequence number). */
  history(pseudonym: string, query: TrackerHistoryQuery): Promise<StoredEvent[]>;

  /**
   * Optional. Watches writes by every process sharing the store: calls `onChange(pseudonym)`
   * after each committed write of a subject, and `onReset()` when notifications may have been
   * missed (a dropped connection). Resolves to a function that stops watching, or null when
   * the store cannot notify (the state cache then relies on its lifetime alone).
   */
  subscribe?(handlers: ChangeHandlers): Promise<(() => Promise<void>) | null>;

  /** Optional. Releases what the tracker opened itself. */
  close?(): Promise<void>;
}
