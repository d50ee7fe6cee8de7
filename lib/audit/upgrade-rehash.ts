import type { EventRewrite } from '../tracker/capabilities';
import type { SealedHead, StoredEvent } from '../tracker/records';
import { eventHash, GENESIS, storedDigest } from './chain';
import { RecordReplay } from './record-replay';
import { releaseOneDigestOk, releaseOneRedacted, sealedInReleaseOne } from './release-one';

/**
 * Rewrites one chain of an upgraded store in the current event format, fed its events in seq
 * order after the whole store verified as it was found. An event of release 1 (`ec2`) gets the
 * current hash, its actor moving from the chained fields into the personal digest; every event
 * after a rewritten one gets a hash chained to its new predecessor; the others stay as they are.
 * In a chain erased by release 1, which kept the actors, the actors of the erased events go too,
 * as erasure removes them now: their digests (of fields gone) stay, as the current format keeps
 * them. The erase event itself keeps who asked for it. Pure.
 *
 * The store may have changed since it verified (the seal runs in a transaction of its own): the
 * chain is checked again here as it is sealed, its events against their hashes, its end against
 * its head, and its records against its events, so that nothing changed meanwhile is sealed.
 */
export class ChainRehash {
  /** The hash of the previous event, as stored and as rewritten. */
  private stored = GENESIS;
  private rewritten = GENESIS;
  private last: StoredEvent | null = null;
  private readonly replay = new RecordReplay();

  constructor(private readonly key: Buffer, private readonly head: SealedHead) {}

  /**
   * The rewrite of the chain's next event, or null when it stays as stored.
   *
   * @throws Error when the event is sealed in neither format, or its personal fields fail release
   * 1's digest (the check before should have said so): nothing is sealed anew over a change.
   */
  push(event: StoredEvent): EventRewrite | null {
    const previous = this.stored;
    this.stored = event.hash;
    this.last = event;
    this.replay.push(event);
    if (eventHash(this.key, previous, event) === event.hash) {
      if (previous === this.rewritten) {
        this.rewritten = event.hash;
        return null;
      }
      return this.rewrite(event, event.actor, event.personalDigest);
    }
    const erased = this.head.erased && releaseOneRedacted(event);
    if (!sealedInReleaseOne(this.key, previous, event, event.hash) || (!erased && !releaseOneDigestOk(this.key, event, event.personalDigest))) {
      throw new Error(`event ${event.id} of chain ${event.chain} is sealed in no known format`);
    }
    if (this.head.erased && event.id !== this.head.id) return this.rewrite(event, null, event.personalDigest);
    const { actor, note, data, ip, userAgent } = event;
    return this.rewrite(event, actor, storedDigest(this.key, { actor, note, data, ip, userAgent, personalSalt: null }));
  }

  /**
   * The hash of the chain's newest event once rewritten: the head's own when nothing changed.
   *
   * @throws Error when the events pushed do not end at the head, or its records are not the
   * ones they determine.
   */
  headHash(): string {
    const { head, last } = this;
    if ((last?.seq ?? 0) !== head.seq || (last?.id ?? null) !== head.id || (last?.hash ?? GENESIS) !== head.hash) {
      throw new Error(`chain ${head.chain} does not end at its head`);
    }
    const [mismatch] = this.replay.mismatches(head.records);
    if (mismatch !== undefined) throw new Error(`the record of "${mismatch.requirement}" in chain ${head.chain} is not the one its events determine`);
    return this.rewritten === this.stored ? head.hash : this.rewritten;
  }

  private rewrite(event: StoredEvent, actor: string | null, personalDigest: string | null): EventRewrite {
    const hash = eventHash(this.key, this.rewritten, { ...event, personalDigest });
    this.rewritten = hash;
    return { id: event.id, hash, personalDigest, actor };
  }
}
