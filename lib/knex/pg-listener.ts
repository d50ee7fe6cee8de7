import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { FeedProbe, SILENT_BEATS } from '../core/feed-probe';
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

/** What the listener reports. */
export interface ListenerHandlers {
  onMessage(payload: string): void;
  /** After a reconnect: notifications sent meanwhile are lost. */
  onReset(): void;
  /** A test notification came back: every notification committed before it was sent has been delivered. */
  onSynced(): void;
  onError(error: unknown): void;
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
 * A dedicated PostgreSQL connection that LISTENs on one channel and hands every payload to
 * `onMessage`. A heartbeat query every second checks that the connection still answers; once
 * it has, a test notification is sent on a channel of this listener's own through the Knex
 * pool, the way other processes' writes send theirs, and only its arrival confirms that the
 * connection delivers (`onSynced`): a connection can answer queries and yet receive nothing
 * (through a pooler in transaction mode). When the probes stop coming back, that is reported
 * once through `onError` (see `FeedProbe`). It reconnects with backoff when the connection
 * drops; since notifications sent meanwhile are lost, `onReset` runs after every reconnect (the
 * caller forgets its cache).
 */
export class PgListener {
  private connection: PgConnection | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private backoffMs = 100;
  /** Where this listener's test notifications go; nobody else listens there. */
  private readonly probeChannel = `express_consent_probe_${randomBytes(8).toString('hex')}`;

  constructor(
    private readonly knex: Knex,
    private readonly channel: string,
    private readonly handlers: ListenerHandlers,
  ) {}

  private get client(): RawConnectionClient {
    return this.knex.client as RawConnectionClient;
  }

  /** Starts listening; a failed first attempt is retried with backoff like a dropped connection. */
  begin(): Promise<void> {
    return this.start().then(
      () => undefined,
      (error: unknown) => {
        this.handlers.onError(error);
        if (!this.closed) this.schedule();
      },
    );
  }

  private async start(): Promise<void> {
    const connection = (await this.client.acquireRawConnection()) as PgConnection;
    if (this.closed) {
      await this.client.destroyRawConnection(connection).catch(() => undefined);
      return;
    }
    const probe = new FeedProbe(randomBytes(8).toString('hex'));
    connection.on('notification', (message) => {
      if (message.channel === this.channel && message.payload) this.handlers.onMessage(message.payload);
      else if (message.channel === this.probeChannel && this.connection === connection && probe.arrived(message.payload ?? '')) {
        this.handlers.onSynced();
      }
    });
    const lost = (error?: unknown) => { this.lost(connection, error); };
    connection.on('error', lost);
    connection.on('end', lost);
    // One query, so that both are registered on the same server session whatever sits between.
    await connection.query(`LISTEN ${quote(this.channel)}; LISTEN ${quote(this.probeChannel)}`);
    this.connection = connection;
    this.backoffMs = 100;
    this.beat(connection, probe);
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
        this.handlers.onError(silence());
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
    this.handlers.onError(error ?? new Error('the listening connection ended'));
    this.schedule();
  }

  private stopBeating(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.start().then(
        () => { this.handlers.onReset(); },
        (error: unknown) => {
          this.handlers.onError(error);
          this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
          if (!this.closed) this.schedule();
        },
      );
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
