import type { Knex } from 'knex';
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
  /** The connection answered: every notification committed before has been delivered. */
  onSynced(): void;
  onError(error: unknown): void;
}

const MAX_BACKOFF_MS = 5_000;
// How long `close()` lets the server acknowledge the end of the connection before cutting it.
const CLOSE_MS = 1_000;
// Well below the default cache lifetime (5 s): each answered heartbeat lets cached states stay.
const HEARTBEAT_MS = 1_000;
const STALLED_BEATS = 5;

/**
 * A dedicated PostgreSQL connection that LISTENs on one channel and hands every payload to
 * `onMessage`. A heartbeat query every second confirms that the connection still delivers
 * (`onSynced`): PostgreSQL sends pending notifications before it answers a query. It
 * reconnects with backoff when the connection drops; since notifications sent meanwhile are
 * lost, `onReset` runs after every reconnect (the caller forgets its cache).
 */
export class PgListener {
  private connection: PgConnection | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private backoffMs = 100;

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
      () => { this.handlers.onSynced(); },
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
    connection.on('notification', (message) => {
      if (message.channel === this.channel && message.payload) this.handlers.onMessage(message.payload);
    });
    const lost = (error?: unknown) => { this.lost(connection, error); };
    connection.on('error', lost);
    connection.on('end', lost);
    await connection.query(`LISTEN ${quote(this.channel)}`);
    this.connection = connection;
    this.backoffMs = 100;
    this.beat(connection);
  }

  /**
   * Queries the connection every HEARTBEAT_MS (one at a time); a failure, or no answer for
   * STALLED_BEATS beats (a connection dead without a word), counts as a loss.
   */
  private beat(connection: PgConnection): void {
    let waiting = false;
    let skipped = 0;
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
          if (this.connection === connection) this.handlers.onSynced();
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
        () => {
          this.handlers.onReset();
          this.handlers.onSynced();
        },
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
