import type { ConsentEvent, Decision, LocalizedText } from '../types';

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
  /** The sweep has recorded the `expire` event of this grant. */
  expiryRecorded: boolean;
}

/**
 * One history entry as a tracker stores it. Personal fields may be null after erasure. It has
 * the fields of the `ConsentEvent` callers see, with its own id, time and data, and the chain's.
 */
export interface StoredEvent extends Omit<ConsentEvent, 'id' | 'at' | 'data' | 'locale'> {
  /**
   * The locale of the text the person was shown; null or absent for an event without one. The
   * event's hash covers it when set.
   */
  locale?: string | null;
  /**
   * Unique across the store: a positive integer below 2^63, as a decimal string. Callers never
   * see it: the library shows an encryption of it instead.
   */
  id: string;
  chain: string;
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  /** `data` serialised as JSON. */
  data: string | null;
  ip: string | null;
  userAgent: string | null;
  /**
   * Keyed digest of the personal fields; null for an event that had none (the digest of no
   * fields, which the library computes: the event's hash covers its real value).
   */
  personalDigest: string | null;
  /**
   * Random bytes (hex) the personal digest covers with the personal fields, shared by the events
   * of one write, so that equal fields in two writes never give equal digests: erasure removes
   * it with them, and what is left links the event to nothing. A tracker stores it and gives it
   * back unchanged, like every field (the digest covers it: an event that comes back without it
   * fails verification). Null for an event without personal fields, for one recorded before
   * salts, and after erasure.
   */
  personalSalt?: string | null;
  /** The id of the event before this one in its chain (null for the first). */
  prevId: string | null;
  /**
   * The hash of the event before this one in its chain (`GENESIS` for the first). A tracker may
   * leave it empty (`''`) on events it reads back: verification takes it from the predecessor.
   */
  prevHash: string;
  hash: string;
}

/** An event as a tracker inserts it: its id was assigned by the tracker before sealing. */
export type NewEvent = StoredEvent;

/** An event as the planner drafts it, before the tracker assigns ids and the chain is sealed. */
export type DraftEvent = Omit<StoredEvent, 'id' | 'prevId' | 'prevHash' | 'hash'>;

/**
 * A chain's protected head as stored with the subject. `mac` seals the other fields together
 * with the subject's current records (see `headSeal`); `''` for a chain no write has sealed yet.
 */
export interface ChainHead {
  chain: string;
  /** The pseudonym linked to the chain; null once erased. */
  pseudonym: string | null;
  seq: number;
  hash: string;
  /** The id of the newest event; null for an empty chain. */
  id: string | null;
  erased: boolean;
  mac: string;
}

/** A head as `ConsentTracker.heads` reads it: with the current records of its chain. */
export interface SealedHead extends ChainHead {
  records: CurrentRecord[];
  /**
   * The subject id stored with the chain (`WritePlan.sealedSubject`, for audiences), as stored;
   * null when none is. Optional: `verify()` checks that it opens for the pseudonym when a
   * tracker gives it.
   */
  sealedSubject?: string | null;
}

/**
 * A subject as a tracker reads it, for a write (inside its transaction) or for `current`: its
 * head, link and every current record. The library checks `mac` before trusting any of it.
 */
export interface SubjectSnapshot {
  /** The subject's chain key: random, and the only link between events and the pseudonym. */
  chain: string;
  /** The pseudonym the subject row holds. */
  pseudonym: string;
  seq: number;
  hash: string;
  /** The id of the chain's newest event; null for a new chain. */
  headId: string | null;
  /** The head's seal as stored (`''` for a new chain). */
  mac: string;
  records: CurrentRecord[];
}

/** The chained events and the new head to write. */
export interface SealedWrite {
  events: NewEvent[];
  head: ChainHead;
}

export type { LeafPosition, LogBlock, LogBlockQuery, LogEntry, LogFold, LogHead } from './log-records';

/** What the planner asks a tracker to write, atomically. */
export interface WritePlan {
  events: DraftEvent[];
  /** Records to insert or replace, keyed by requirement. */
  records: CurrentRecord[];
  /**
   * Pure: chains the drafts once the tracker has assigned their ids (in order, unique across
   * the store).
   */
  seal(ids: string[]): SealedWrite;
  /** Outbox entries for durable handlers, inserted in the same transaction. */
  outbox?: OutboxEntry[];
  /**
   * The subject id, encrypted for the subject's pseudonym; opaque to trackers. A tracker
   * with the audience capability stores it with the subject (replacing what it holds) and
   * returns it from `audience()`; absent, the stored one stays as it is.
   */
  sealedSubject?: string;
}

/** One delivery owed to one durable (named) handler. */
export interface OutboxEntry {
  /** The handler's name. */
  handler: string;
  event: 'change' | 'withdrawn' | 'confirmation';
  /** Index into the plan's events of the event this entry reports (its id fills `eventId`). */
  eventIndex: number | null;
  /** The payload, encrypted (it names the subject); opaque to trackers. */
  payload: string;
  /** Epoch ms from which it may be delivered. */
  availableAt: number;
}

/** An outbox entry claimed for delivery by one process. */
export interface ClaimedOutboxEntry {
  id: string;
  handler: string;
  event: OutboxEntry['event'];
  eventId: string | null;
  payload: string;
  attempts: number;
  /** Identifies this claim: only its holder may reschedule the entry. */
  claim: string;
}

/** A grant whose expiry has passed and whose `expire` event is not recorded yet. */
export interface LapsedGrant {
  pseudonym: string;
  requirement: string;
  /**
   * The subject id stored sealed with the chain (`WritePlan.sealedSubject` as last written), when
   * the tracker keeps it: the sweep then names the subject in `change` events. @default none
   */
  sealedSubject?: string | null;
  /** Paging key: pass the last one seen as `after`. */
  key: string;
}

/**
 * The planner of a multi-subject batch (`ConsentTracker.writeMany`): the plan of one subject,
 * given its snapshot read inside the batch's transaction. Pure and synchronous; a throw aborts
 * the whole batch.
 */
export type BatchPlanner = (pseudonym: string, snapshot: SubjectSnapshot) => WritePlan;

/** A batch `ConsentTracker.prepareMany` planned and sealed ahead; opaque outside its tracker. */
export interface PreparedBatch {
  /** The batch's pseudonyms, sorted and distinct. */
  readonly pseudonyms: readonly string[];
}

/** A version's texts in every locale (beyond the flat default text), as stored with it. */
export interface VersionTexts {
  defaultLocale: string;
  texts: Record<string, LocalizedText>;
}

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
  /**
   * Every locale's text and the Art. 13 fields; null (or absent, from a tracker that predates
   * them) for a version with only the flat English text.
   */
  texts?: VersionTexts | null;
  /** When the version becomes current (epoch ms); null or absent: from when it was stored. */
  effectiveFrom?: number | null;
  /**
   * The library's keyed seal of the other members (see `versionSeal`); a tracker stores it and
   * returns it unchanged. `''` for a version stored before it was sealed.
   */
  mac: string;
}

/** What `syncRequirement` knows of the registry. */
export interface SyncOptions {
  /** The highest version of the requirement that the host registers (scheduled ones included). */
  highestRegistered?: number;
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
    expiryRecorded: false,
  };
}
