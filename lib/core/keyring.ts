import { eventIdCodec, type EventIdCodec } from '../audit/event-ids';
import { deriveKeys, type DerivedKeys } from '../audit/keys';
import { ConsentError } from '../errors';

const notReady = (): ConsentError => new ConsentError('internal_error', 'the consent store is not ready');

/**
 * The keys derived from the secret and the public event-id codec. The secret may live in the
 * store, so they are known only once `ready()` has read it; before that, reading one throws.
 */
export class Keyring {
  private derived: DerivedKeys | null = null;
  private codec: EventIdCodec | null = null;

  /** Derives every key from the secret (once, during `ready()`). */
  open(secret: Buffer): DerivedKeys {
    const keys = deriveKeys(secret);
    this.derived = keys;
    this.codec = eventIdCodec(keys.eventId);
    return keys;
  }

  /** @throws ConsentError `internal_error` before `ready()`. */
  get keys(): DerivedKeys {
    if (!this.derived) throw notReady();
    return this.derived;
  }

  /** Public event ids, to and from the tracker's. @throws ConsentError `internal_error` before `ready()`. */
  get eventIds(): EventIdCodec {
    if (!this.codec) throw notReady();
    return this.codec;
  }
}
