import type { EventRewrite } from '../tracker/capabilities';
import type { SealedHead, StoredEvent } from '../tracker/records';
import { eventHash, GENESIS, storedDigest } from './chain';
import { releaseOneDigestOk, releaseOneRedacted, sealedInReleaseOne } from './release-one';

/**
 * Rewrites one chain of an upgraded store in the current event format, fed its events in seq
 * order after the whole store verified as it was found. An event of release 1 (`ec2`) gets the
 * current hash, its actor moving from the chained fields into the personal digest; every event
 * after a rewritten one gets a hash chained to its new predecessor; the others stay as they are.
 * In a chain erased by release 1, which kept the actors, the actors of the erased events go too,
 * as erasure removes them now: their digests (of fields gone) stay, as the current format keeps
 * them. The erase event itself keeps who asked for it. Pure.
 */
export class ChainRehash {
  /** The hash of the previous event, as stored and as rewritten. */
  private stored = GENESIS;
  private rewritten = GENESIS;

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

  /** The hash of the chain's newest event once rewritten: the head's own when nothing changed. */
  headHash(): string {
    return this.rewritten === this.stored ? this.head.hash : this.rewritten;
  }

  private rewrite(event: StoredEvent, actor: string | null, personalDigest: string | null): EventRewrite {
    const hash = eventHash(this.key, this.rewritten, { ...event, personalDigest });
    this.rewritten = hash;
    return { id: event.id, hash, personalDigest, actor };
  }
}
