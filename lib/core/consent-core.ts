import type { EventIdCodec } from '../audit/event-ids';
import type { DerivedKeys } from '../audit/keys';
import type { ResolvedOptions } from '../options';
import type { Registry } from '../registry/registry';
import type { CurrentRecord, LogHead, StoredRequirementVersion } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import type { StateInfo } from '../types';
import type { CommitRequest, CommitResult } from './commit';
import type { StoredTextCheck } from './stored-texts';

/**
 * What the engine offers the operations built on it (confirmation, GPC, export, import,
 * proof). Each takes a `Pick` of exactly what it uses, so none depends on the engine itself.
 */
export interface ConsentCore {
  readonly options: ResolvedOptions;
  readonly registry: Registry;
  /** The tracker behind its storage deadline. */
  readonly tracker: ConsentTracker;
  /** The same tracker behind the longer deadline of store-wide work (`scansOf`): a whole-store verification. */
  readonly scanTracker: ConsentTracker;
  /** The keys derived from the secret; only after `ready()`. */
  readonly derivedKeys: DerivedKeys;
  /** Public event ids, to and from the tracker's; only after `ready()`. */
  readonly eventIds: EventIdCodec;
  /** Migrates, resolves the secret and seals the registry (once); everything waits for it. */
  ready(): Promise<void>;
  /** The time in epoch ms (the `now` option). */
  now(): number;
  /** The subject's pseudonym; only after `ready()`. */
  pseudonym(subjectId: string): string;
  /** Forgets the subject's id, held in memory with its pseudonym (erasure). */
  forgetSubject(subjectId: string): void;
  /** The subject's records, from the cache while fresh, else from the store. */
  records(pseudonym: string): Promise<CurrentRecord[]>;
  /** The subject's records read from the store, once their seal checks; never cached. */
  storedRecords(pseudonym: string): Promise<CurrentRecord[]>;
  /** Stored versions of the given requirements (oldest first), once each one's seal checks. */
  storedVersions(ids: string[]): Promise<StoredRequirementVersion[]>;
  /** States of every registered requirement, in registration order. */
  statesFrom(records: CurrentRecord[], gpc?: boolean): Record<string, StateInfo>;
  /** Registered requirements the subject still has to answer, in registration order. */
  pendingFrom(states: Record<string, StateInfo>): string[];
  /** The keyed hash of a confirmation token, as stored. */
  tokenHash(token: string): string;
  /** Seals the global log now: what writers appended enters its tree. Resolves to the head. */
  sealLog(): Promise<LogHead | null>;
  /** Runs one write (see `commitWrite`). */
  commit(request: CommitRequest): Promise<CommitResult>;
  /** Refuses a decision on a version whose stored text is not the one this process shows. */
  readonly storedTexts: Pick<StoredTextCheck, 'check' | 'answered'>;
}
