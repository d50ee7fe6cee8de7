/**
 * `express-consent/tracker`: for authors of a storage of their own. The `ConsentTracker`
 * interface, the records the library and a tracker exchange (snapshots, plans, events, chain
 * heads, log entries and heads, outbox entries), the query types, and the two shipped trackers to wrap
 * or delegate to. Check an implementation with `trackerConformance()` from
 * `express-consent/testing`.
 *
 * @packageDocumentation
 */
export type { ConsentTracker, ChangeHandlers, EventScanQuery, HeadScanQuery, TrackerHistoryQuery } from './tracker/tracker';
export type {
  BatchPlanner,
  ChainHead,
  ClaimedOutboxEntry,
  CurrentRecord,
  DraftEvent,
  LapsedGrant,
  LeafPosition,
  LogBlock,
  LogBlockQuery,
  LogEntry,
  LogFold,
  LogHead,
  NewEvent,
  OutboxEntry,
  PreparedBatch,
  SealedWrite,
  StoredEvent,
  StoredRequirementVersion,
  SubjectSnapshot,
  SyncOptions,
  SyncOutcome,
  WritePlan,
} from './tracker/records';
export type { AuditEvent, AuditQuery, DailyCount, StateGroup, StoreStats } from './tracker/admin-records';
export type { BulkCapability, LifecycleCapability, OutboxCapability, ProofCapability, TrackerCore, WatchCapability } from './tracker/capabilities';
export type { AdminCapability } from './tracker/admin-capability';
export type { AudienceCapability, AudienceEntry, AudienceQuery, AudienceRowsPage } from './tracker/audience-capability';
export { AUDIENCE_ROW_COLUMNS } from './tracker/audience-rows';
export { decodeRecords, encodeRecords, RecordBlobError } from './tracker/record-blob';
export { encodeLeaves, LEAF_BYTES, type LeafSource } from './audit/log-leaf';
export { KnexTracker, type KnexTrackerOptions } from './knex/knex-tracker';
export { MemoryTracker } from './tracker/memory-tracker';
