import type { ChainHead, StoredEvent } from '../tracker/records';

/*
 * The fields the audit chain hashes, as views of the stored records: a field is declared once,
 * on the record, and reaches the hashes from there.
 */

type ChainedName = 'chain' | 'seq' | 'id' | 'prevId' | 'requirement' | 'version' | 'action' | 'state' | 'source' | 'at' | 'personalDigest';

/** Names become any text: a hash covers whatever a row holds, a tampered one included. */
type AsStored<T> = T extends string ? string : T;

/**
 * The fields of an event that the chain covers. Personal fields (the actor among them) enter
 * only through their digest, so erasure can remove them and the chain still verifies. `id` and
 * `prevId` are covered too: the successor of a deleted event names it.
 */
export type ChainedFields = { [K in ChainedName]: AsStored<StoredEvent[K]> } & {
  /**
   * The locale of the text shown. Covered only when set: an event without one (recorded before
   * locales, or without a text) hashes exactly as it did before.
   */
  locale?: string | null;
};

/**
 * What an event's hash covers: the chained fields and, for an event that carries one, its
 * `context` (where the question was asked). Events without a context keep the format they were
 * sealed with before contexts existed, so older chains verify unchanged.
 */
export type HashedFields = ChainedFields & { context?: string | null };

/**
 * Personal fields of an event: erasure removes them, so the chain holds only their digest.
 * `actor` is one: it names a person (who acted for the subject) as often as a system. The salt
 * goes with them: without it the digest cannot be matched against any other or any guess.
 */
export type PersonalFields = Pick<StoredEvent, 'actor' | 'note' | 'data' | 'ip' | 'userAgent' | 'personalSalt'>;

/** The head fields the seal of release 1 covered (`legacyHeadMac`). */
export type HeadFields = Pick<ChainHead, 'chain' | 'seq' | 'hash' | 'id' | 'erased'>;
