import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { FeedProbe, SILENT_BEATS } from '../core/feed-probe';
import { Subscribers, type ListenerHandlers, type Subscriber } from './pg-subscribers';
import { quote } from './quote';

/** The slice of a `pg` client the listener uses. */
interface PgConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: unknown) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** The slice of Knex's client object used to open a connection outside the pool. */
interface RawConnectionClient {
  acquireRawConnection(): Promise<unknown>;
  destroyRawConnection(connection: unknown): Promise<void>;
}

const MAX_BACKOFF_MS = 5_000;
// How long `close()` lets the server acknowledge the end of the connection before cutting it.
const CLOSE_MS = 1_000;
// Well below the default cache lifetime (5 s): each answered heartbeat lets cached states stay.
const HEARTBEAT_MS = 1_000;
const STALLED_BEATS = 5;

const silence = () => new Error(
  `the change feed's own test notification did not come back for ${String(SILENT_BEATS)} heartbeats: notifications are not ` +
    'delivered on the listening connection (a pooler in transaction mode, such as PgBouncer with pool_mode = transaction, ' +
    'drops them; see docs/production.md#connection-poolers-pgbouncer), or the database is too busy to send them',
);

/**
 * A dedicated PostgreSQL connection that LISTENs on the channels of its subscribers (the
 * trackers of one Knex instance: `listen`) and hands every payload to those of its channel. A
 * heartbeat query every second checks that the connection still answers; once it has, a test
 * notification is sent on a channel of this listener's own through the Knex pool, the way other
 * processes' writes send theirs, and only its arrival confirms that the connection delivers
 * (`onSynced`, to the subscribers listening since before it was sent): a connection can answer
 * queries and yet receive nothing (through a pooler in transaction mode). When the probes stop
 * coming back, that is reported once through `onError` (see `FeedProbe`). It reconnects with
 * backoff when the connection drops; since notifications sent meanwhile are lost, `onReset`
 * runs after every reconnect (the subscribers forget their caches).
 */
class PgListener {
  readonly subscribers = new Subscribers();
  private connection: PgConnection | null = null;
  private probe: FeedProbe | null = null;
  /** The channels listened to on the current connection. */
  private listened = new Set<string>();
  private starting: Promise<void> | null = null;
  closed = false;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private backoffMs = 100;
  /** Where this listener's test notifications go; nobody else listens there. */
  private readonly probeChannel = `express_consent_probe_${randomBytes(8).toString('hex')}`;

  constructor(private readonly knex: Knex) {}

  private get client(): RawConnectionClient {
    return this.knex.client as RawConnectionClient;
  }

  /**
   * Adds a subscriber and listens to its channel too. The first one starts the connection; a
   * failed first attempt is reported and retried with backoff like a dropped connection.
   */
  async add(channel: string, handlers: ListenerHandlers): Promise<Subscriber> {
    const subscriber: Subscriber = { channel, handlers, from: Infinity };
    this.subscribers.add(subscriber);
    if (this.connection === null && this.starting === null && this.timer === null) await this.attempt(() => undefined);
    else await this.starting;
    const connection = this.connection;
    if (connection !== null) await this.listenTo(subscriber, connection);
    return subscriber;
  }

  /** Removes a subscriber; the last one closes the connection. */
  async remove(subscriber: Subscriber): Promise<void> {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) {
      await this.close();
      return;
    }
    const connection = this.connection;
    if (connection === null || this.subscribers.listens(subscriber.channel)) return;
    this.listened.delete(subscriber.channel);
    await connection.query(`UNLISTEN ${quote(subscriber.channel)}`).catch(() => undefined);
  }

  /** Listens to a subscriber's channel on `connection`, unless it already does; it is confirmed from the next probe on. */
  private async listenTo(subscriber: Subscriber, connection: PgConnection): Promise<void> {
    if (!this.listened.has(subscriber.channel)) {
      // A failure is the connection's: its error handler reconnects, and the next one listens.
      const ok = await connection.query(`LISTEN ${quote(subscriber.channel)}`).then(() => true, () => false);
      if (!ok || this.connection !== connection || !this.subscribers.listens(subscriber.channel)) return;
      this.listened.add(subscriber.channel);
    }
    if (subscriber.from === Infinity && this.subscribers.has(subscriber)) subscriber.from = (this.probe?.latest ?? 0) + 1;
  }

  /** One attempt to connect; `then` runs after a success, a failure is reported and retried. */
  private attempt(then: () => void): Promise<void> {
    this.starting = this.start().then(then, (error: unknown) => {
      this.subscribers.each((h) => { h.onError(error); });
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      if (!this.closed) this.schedule();
    }).finally(() => { this.starting = null; });
    return this.starting;
  }

  private async start(): Promise<void> {
    const connection = (await this.client.acquireRawConnection()) as PgConnection;
    if (this.closed) {
      await this.client.destroyRawConnection(connection).catch(() => undefined);
      return;
    }
    const probe = new FeedProbe(randomBytes(8).toString('hex'));
    connection.on('notification', (message) => {
      if (message.channel !== this.probeChannel) {
        if (message.payload) this.subscribers.message(message.channel, message.payload);
      } else if (this.connection === connection && probe.arrived(message.payload ?? '')) {
        this.subscribers.synced(probe.latest);
      }
    });
    const lost = (error?: unknown) => { this.lost(connection, error); };
    connection.on('error', lost);
    connection.on('end', lost);
    const channels = this.subscribers.channels();
    // One query, so that all are registered on the same server session whatever sits between.
    await connection.query([...channels, this.probeChannel].map((c) => `LISTEN ${quote(c)}`).join('; '));
    // close() may have run while the LISTEN was on its way: the connection was not known to it.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by close() during the await
    if (this.closed) {
      await this.end(connection);
      return;
    }
    this.connection = connection;
    this.probe = probe;
    this.listened = new Set(channels);
    this.backoffMs = 100;
    // Every probe on this connection is sent after these LISTENs; a subscriber added meanwhile listens now.
    for (const subscriber of this.subscribersOf(channels)) subscriber.from = 0;
    for (const subscriber of this.subscribersOf(null)) void this.listenTo(subscriber, connection);
    this.beat(connection, probe);
  }

  /** The subscribers whose channel is among `channels` (all others with null). */
  private subscribersOf(channels: readonly string[] | null): Subscriber[] {
    return this.subscribers.list().filter((s) => (channels === null ? !this.listened.has(s.channel) : channels.includes(s.channel)));
  }

  /**
   * Queries the connection every HEARTBEAT_MS (one at a time); a failure, or no answer for
   * STALLED_BEATS beats (a connection dead without a word), counts as a loss. After each answer
   * (and once at the start) sends a probe: only while the listening connection is idle, as it is
   * when other processes' notifications reach it, so that an answered query cannot carry the
   * probe back on a connection that would drop theirs.
   */
  private beat(connection: PgConnection, probe: FeedProbe): void {
    let waiting = false;
    let skipped = 0;
    let sending = false;
    const send = () => {
      if (this.connection !== connection) return;
      const next = sending ? { payload: null, silent: probe.beatWithoutProbe() } : probe.beat();
      if (next.silent) {
        const error = silence();
        this.subscribers.each((h) => { h.onError(error); });
      }
      if (next.payload === null) return;
      sending = true;
      const done = () => { sending = false; };
      // A failed send only goes unconfirmed: the writes' own queries report a failing database.
      this.knex.raw('select pg_notify(?, ?)', [this.probeChannel, next.payload]).then(done, done);
    };
    send();
    this.heartbeat = setInterval(() => {
      if (waiting) {
        skipped += 1;
        if (skipped >= STALLED_BEATS) {
          this.lost(connection, new Error('the listening connection stopped answering'));
          void this.client.destroyRawConnection(connection).catch(() => undefined);
        }
        return;
      }
      skipped = 0;
      waiting = true;
      connection.query('select 1').then(
        () => {
          waiting = false;
          send();
        },
        (error: unknown) => { this.lost(connection, error); },
      );
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private lost(connection: PgConnection, error?: unknown): void {
    if (this.connection !== connection) return;
    this.connection = null;
    this.stopBeating();
    connection.removeAllListeners('notification');
    if (this.closed) return;
    // Always reported: a connection that ended without an error is broken all the same.
    const reported = error ?? new Error('the listening connection ended');
    this.subscribers.each((h) => { h.onError(reported); });
    this.schedule();
  }

  private stopBeating(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.attempt(() => { this.subscribers.each((h) => { h.onReset(); }); });
    }, this.backoffMs);
    this.timer.unref();
  }

  /** Stops listening and closes the connection (within about a second, whatever the server does). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopBeating();
    const connection = this.connection;
    this.connection = null;
    if (connection) await this.end(connection);
  }

  /**
   * Ends the connection. A server that stopped answering (frozen, or cut off by the network)
   * never acknowledges the end: after `CLOSE_MS` its socket is cut, so `close()` returns.
   */
  private async end(connection: PgConnection): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        (connection as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
        resolve();
      }, CLOSE_MS);
    });
    await Promise.race([this.client.destroyRawConnection(connection).catch(() => undefined), cut]);
    clearTimeout(timer);
  }
}

const shared = new WeakMap<Knex, PgListener>();

/**
 * Listens on `channel` through the one listening connection of `knex`, which the trackers on
 * that Knex instance share (tenants with their own table prefix each add a channel, not a
 * connection). Resolves once the first attempt to listen is over (a failure goes to `onError`
 * and is retried), to the function that stops; the last to stop closes the connection.
 */
export async function listen(knex: Knex, channel: string, handlers: ListenerHandlers): Promise<() => Promise<void>> {
  let listener = shared.get(knex);
  if (listener === undefined || listener.closed) shared.set(knex, (listener = new PgListener(knex)));
  const subscriber = await listener.add(channel, handlers);
  const own = listener;
  return async () => {
    await own.remove(subscriber);
    if (own.closed && shared.get(knex) === own) shared.delete(knex);
  };
}

export type { ListenerHandlers } from './pg-subscribers';
