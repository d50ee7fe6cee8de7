import type { StoredEvent } from '../tracker/records';
import { eventHash, hasNoPersonalValues, noPersonalDigest } from './chain';
import { PersonalDigestMemo } from './digest-memo';
import type { HashedFields } from './fields';
import { releaseOneDigestOk, releaseOneRedacted, sealedInReleaseOne } from './release-one';

/**
 * The checks of one event's own seals: its hash and its personal digest. With `legacy` (an
 * upgraded store before it is sealed again) an event may also be sealed in the format of
 * release 1, and its personal digest is then checked in that format too.
 */
export class EventSeals {
  private readonly digests: PersonalDigestMemo;
  /** Events found sealed in the format of release 1. */
  private readonly releaseOne = new WeakSet<StoredEvent>();

  constructor(private readonly key: Buffer, private readonly legacy: boolean) {
    this.digests = new PersonalDigestMemo(key);
  }

  /** Whether `event`, read with `fields` (its own, or at another seq or id), hashes to its stored hash after `previous`. */
  sealed(event: StoredEvent, previous: string, fields: HashedFields & Pick<StoredEvent, 'actor' | 'personalSalt'> = event): boolean {
    if (eventHash(this.key, previous, fields) === event.hash) return true;
    if (!this.legacy || !sealedInReleaseOne(this.key, previous, fields, event.hash)) return false;
    this.releaseOne.add(event);
    return true;
  }

  /** Whether the event's personal digest holds; an erased chain (sealed as such) keeps digests of gone fields. */
  personalOk(event: StoredEvent, erased: boolean): boolean {
    if (this.legacy && this.releaseOne.has(event)) return (erased && releaseOneRedacted(event)) || releaseOneDigestOk(this.key, event, event.personalDigest);
    // An older release's erasure left their salt.
    if (erased && hasNoPersonalValues(event)) return true;
    return this.digests.of(event) === (event.personalDigest ?? noPersonalDigest(this.key));
  }
}
