import { handlerFailed } from './handler-failed';

/** What a shared listener reports to one subscriber. */
export interface ListenerHandlers {
  onMessage(payload: string): void;
  /** After a reconnect: notifications sent meanwhile are lost. */
  onReset(): void;
  /** A test notification came back: every notification committed before it was sent has been delivered. */
  onSynced(): void;
  onError(error: unknown): void;
}

/** One subscriber: the channel its writers announce on, and its handlers. */
export interface Subscriber {
  readonly channel: string;
  readonly handlers: ListenerHandlers;
  /**
   * The first test notification (by number, on the current connection) that may confirm this
   * subscriber: one sent after its channel was listened to. Infinity while it is not yet.
   */
  from: number;
}

/**
 * The subscribers of one listening connection, shared by the trackers on one Knex instance
 * (tenants with their own table prefix, and so their own channel): which channels to listen
 * to, and who hears what arrives. Pure bookkeeping.
 */
export class Subscribers {
  private readonly all = new Set<Subscriber>();

  get size(): number {
    return this.all.size;
  }

  add(subscriber: Subscriber): void {
    this.all.add(subscriber);
  }

  delete(subscriber: Subscriber): void {
    this.all.delete(subscriber);
  }

  has(subscriber: Subscriber): boolean {
    return this.all.has(subscriber);
  }

  list(): Subscriber[] {
    return [...this.all];
  }

  /** Whether any subscriber (other than `except`) listens to `channel`. */
  listens(channel: string, except?: Subscriber): boolean {
    for (const s of this.all) if (s !== except && s.channel === channel) return true;
    return false;
  }

  /** Every channel listened to, once each. */
  channels(): string[] {
    return [...new Set([...this.all].map((s) => s.channel))];
  }

  /** A notification on `channel`: to its subscribers. */
  message(channel: string, payload: string): void {
    for (const s of [...this.all]) if (s.channel === channel) tellOne(s, (h) => { h.onMessage(payload); });
  }

  /** Test notification `n` came back: confirms the subscribers listening since before it was sent. */
  synced(n: number): void {
    for (const s of [...this.all]) if (s.from <= n) tellOne(s, (h) => { h.onSynced(); });
  }

  /** Tells every subscriber. */
  each(tell: (handlers: ListenerHandlers) => void): void {
    for (const s of [...this.all]) tellOne(s, tell);
  }
}

/**
 * Tells one subscriber; a handler that throws is its own subscriber's error: reported to its
 * `onError`, then told to drop what it cached (`onReset`), as a notification it may have missed
 * asks. The others are still told.
 */
function tellOne(subscriber: Subscriber, tell: (handlers: ListenerHandlers) => void): void {
  try {
    tell(subscriber.handlers);
  } catch (error) {
    handlerFailed(subscriber.handlers, error);
  }
}
