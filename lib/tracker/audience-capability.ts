import type { SubjectSnapshot } from './records';

/** One subject of an audience page. */
export interface AudienceEntry {
  /**
   * The subject as `current()` reads it: its head, its link (pseudonym) and every one of its
   * current records. The library trusts none of it before the head's seal checks.
   * `snapshot.chain` is the page's keyset position (pass the last one as `after`).
   */
  snapshot: SubjectSnapshot;
  /**
   * `WritePlan.sealedSubject` as last stored for the subject; null for a subject written before
   * its tracker stored it (the library skips and counts those).
   */
  sealedSubject: string | null;
}

/** Options of `AudienceCapability.audience`. */
export interface AudienceQuery {
  /**
   * The requirement the library is listing, for the tracker's own use (logs, query plans). It
   * narrows nothing: every linked subject comes with all its records, which its head's seal covers.
   */
  requirement: string;
  /** Only subjects whose chain key sorts after this one (the previous page's last entry). */
  after?: string;
  limit: number;
}

/** A page of `AudienceCapability.audienceRows`. */
export interface AudienceRowsPage {
  /**
   * JSON text: an array of rows, each an array of the values `AUDIENCE_ROW_COLUMNS` names
   * (audience-rows.ts), in that order: a row per record of each subject on the page, and one
   * without a record (a null requirement) for a subject that has none.
   */
  rows: string;
  /** The chain key of the page's last subject (where the next page starts), in hex; null for an empty page. */
  last: string | null;
  /** Whether the page holds the `limit` subjects asked for: one that does not is the last. */
  full: boolean;
}

/**
 * Optional: reads across subjects, for `consent.audience()`, `consent.rememberSubject()` and
 * `GET /admin/requirements/:id/subjects`. A tracker that implements it also stores
 * `WritePlan.sealedSubject` with the subject on every `write()`/`writeMany()` that carries one,
 * and forgets it on `erase()`. Each call is one short, bounded read, so that a long listing
 * never holds the store.
 */
export interface AudienceCapability {
  /**
   * A keyset page of the linked subjects (erased chains never appear) in chain-key order, each
   * with its whole snapshot (as `current()` returns it) and its sealed id.
   */
  audience(query: AudienceQuery): Promise<AudienceEntry[]>;

  /**
   * Optional, for long listings: the page `audience` returns, as rows in JSON text, which the
   * library decodes and judges on worker threads (so that neither holds the main thread). Null
   * when the page cannot be read that way this time: the library then calls `audience`.
   */
  audienceRows?(query: AudienceQuery): Promise<AudienceRowsPage | null>;

  /**
   * Stores the sealed id of the subject linked to `pseudonym`, as `seal` returns it for its chain key,
   * without writing an event. Resolves to false (storing nothing) when no subject is linked.
   */
  storeSealedSubject(pseudonym: string, seal: (chain: string) => string): Promise<boolean>;

  /**
   * What `current()` reads for each of `pseudonyms` (up to a thousand at a time), in the order
   * asked: null for a pseudonym no subject is linked to. One short, bounded read for all of them,
   * for `consent.filterAllowed()`, which refuses an answer without exactly one entry per
   * pseudonym as a storage failure.
   */
  snapshots(pseudonyms: readonly string[]): Promise<Array<SubjectSnapshot | null>>;

  /**
   * Optional, for long lists: what `snapshots` reads (up to two thousand pseudonyms at a time),
   * as rows in JSON text: an array of rows, each the values `AUDIENCE_ROW_COLUMNS` names up to
   * `head_mac`, in any order; a row per record of each linked subject, one without a record for
   * a subject that has none, and one with a null chain and record for a pseudonym no subject is
   * linked to. `consent.filterAllowed()` decodes and judges them on worker threads, and refuses
   * rows that leave out a pseudonym asked as a storage failure. Null when they cannot be read
   * that way this time: the library then calls `snapshots`.
   */
  snapshotRows?(pseudonyms: readonly string[]): Promise<string | null>;
}
