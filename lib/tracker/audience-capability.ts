import type { CurrentRecord } from './records';

/** One subject of an audience page. */
export interface AudienceEntry {
  /** The subject's chain key: the page's keyset position (pass the last one as `after`). */
  chain: string;
  /**
   * `WritePlan.sealedSubject` as last stored for the subject; null for a subject written before
   * its tracker stored it (the library skips and counts those).
   */
  sealedSubject: string | null;
  /** The subject's record of the requirement asked for; null when it has none (`unset`). */
  record: CurrentRecord | null;
}

/** Options of `AudienceCapability.audience`. */
export interface AudienceQuery {
  requirement: string;
  /** Only subjects whose chain key sorts after this one (the previous page's last entry). */
  after?: string;
  limit: number;
}

/**
 * Optional: reads across subjects by requirement, for `consent.audience()`,
 * `consent.filterAllowed()`, `consent.rememberSubject()` and `GET /admin/requirements/:id/subjects`.
 * A tracker that implements it also stores `WritePlan.sealedSubject` with the subject on every
 * `write()`/`writeMany()` that carries one, and forgets it on `erase()`. Each call is one short,
 * bounded read, so that a long listing never holds the store.
 */
export interface AudienceCapability {
  /**
   * A keyset page of the linked subjects (erased chains never appear) in chain-key order, each
   * with its sealed id and its record of `query.requirement`, subjects without one included.
   */
  audience(query: AudienceQuery): Promise<AudienceEntry[]>;

  /**
   * The record of `requirement` of each of `pseudonyms`, in the same order: null for a subject
   * without one, or unknown. One read for the whole list.
   */
  recordsOf(pseudonyms: readonly string[], requirement: string): Promise<Array<CurrentRecord | null>>;

  /**
   * Stores the sealed id of the subject linked to `pseudonym`, made by `seal` from its chain key,
   * without writing an event. Resolves to false (storing nothing) when no subject is linked.
   */
  storeSealedSubject(pseudonym: string, seal: (chain: string) => string): Promise<boolean>;
}
