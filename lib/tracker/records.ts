import type { Action, Decision, Source, State } from '../types';

/**
 * A subject's current position on one requirement, as a tracker stores it. Times are epoch
 * milliseconds. `decision` is the latest decision; `pending*` describe an open double opt-in
 * request, which takes precedence while its token is valid and falls back to the decision after.
 */
export interface CurrentRecord {
  requirement: string;
  decision: Decision | null;
  version: number | null;
  decidedAt: number | null;
  expiresAt: number | null;
  /** The grant was given while the request carried `Sec-GPC: 1` (an explicit opt-in). */
  gpcOptIn: boolean;
  pendingVersion: number | null;
  pendingAt: number | null;
  pendingExpiresAt: number | null;
  /** Keyed hash of the confirmation token; the token itself is never stored. */
  pendingToken: string | null;
}

/** One history entry as a tracker stores it. Personal fields may be null after erasure. */
export interface StoredEvent {
  /** Opaque, unique across the store. */
  id: string;
  chain: string;
  seq: number;
  requirement: string;
  version: number;
  action: Action;
  state: State;
  source: Source;
  actor: string | null;
  at: number;
  note: string | null;
  /** `data` serialised as JSON. */
  data: string | null;
  ip: string | null;
  userAgent: string | null;
  personalDigest: string;
  hash: string;
}

export type NewEvent = Omit<StoredEvent, 'id'>;

/** What a tracker hands the planner inside a write transaction. */
export interface SubjectSnapshot {
  /** The subject's chain key: random, and the only link between events and the pseudonym. */
  chain: string;
  seq: number;
  hash: string;
  records: CurrentRecord[];
}

/** What the planner asks a tracker to write, atomically. */
export interface WritePlan {
  events: NewEvent[];
  /** Records to insert or replace, keyed by requirement. */
  records: CurrentRecord[];
  head: { seq: number; hash: string; mac: string };
}

/**
 * The planner of a multi-subject batch (`ConsentTracker.writeMany`): given every subject's
 * snapshot, the plan of each subject that has one. Pure and synchronous; a throw aborts all.
 */
export type BatchPlanner = (snapshots: ReadonlyMap<string, SubjectSnapshot>) => Map<string, WritePlan>;

/** A requirement version as stored: the text is locked once an event references it. */
export interface StoredRequirementVersion {
  id: string;
  version: number;
  title: string;
  description: string;
  url: string | null;
  lawfulBasis: string;
  textHash: string;
  createdAt: number;
}

/** What `syncRequirement` found. */
export type SyncOutcome =
  | { kind: 'ok' }
  | { kind: 'downgrade'; highest: number }
  | { kind: 'text_changed' };

export function emptyRecord(requirement: string): CurrentRecord {
  return {
    requirement,
    decision: null,
    version: null,
    decidedAt: null,
    expiresAt: null,
    gpcOptIn: false,
    pendingVersion: null,
    pendingAt: null,
    pendingExpiresAt: null,
    pendingToken: null,
  };
}
