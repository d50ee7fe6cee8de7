import type { Knex } from 'knex';

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

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const MAX_BACKOFF_MS = 5_000;

/**
 * A dedicated PostgreSQL connection that LISTENs on one channel and hands every payload to
 * `onMessage`. It reconnects with backoff when the connection drops; since notifications sent
 * meanwhile are lost, `onReset` runs after every reconnect (the caller forgets its cache).
 */
export class PgListener {
  private connection: PgConnection | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private backoffMs = 100;

  constructor(
    private readonly knex: Knex,
    private readonly channel: string,
    private readonly onMessage: (payload: string) => void,
    private readonly onReset: () => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  private get client(): RawConnectionClient {
    return this.knex.client as RawConnectionClient;
  }

  /** Starts listening; a failed first attempt is retried with backoff like a dropped connection. */
  begin(): Promise<void> {
    return this.start().catch((error: unknown) => {
      this.onError(error);
      if (!this.closed) this.schedule();
    });
  }

  private async start(): Promise<void> {
    const connection = (await this.client.acquireRawConnection()) as PgConnection;
    if (this.closed) {
      await this.client.destroyRawConnection(connection).catch(() => undefined);
      return;
    }
    connection.on('notification', (message) => {
      if (message.channel === this.channel && message.payload) this.onMessage(message.payload);
    });
    const lost = (error?: unknown) => { this.lost(connection, error); };
    connection.on('error', lost);
    connection.on('end', lost);
    await connection.query(`LISTEN ${quoteIdent(this.channel)}`);
    this.connection = connection;
    this.backoffMs = 100;
  }

  private lost(connection: PgConnection, error?: unknown): void {
    if (this.connection !== connection) return;
    this.connection = null;
    connection.removeAllListeners('notification');
    if (this.closed) return;
    if (error) this.onError(error);
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.start().then(this.onReset, (error: unknown) => {
        this.onError(error);
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
        if (!this.closed) this.schedule();
      });
    }, this.backoffMs);
    this.timer.unref();
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const connection = this.connection;
    this.connection = null;
    if (connection) await this.client.destroyRawConnection(connection).catch(() => undefined);
  }
}
