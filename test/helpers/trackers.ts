import { createServer, type Server, type Socket, connect } from 'node:net';
import { KnexTracker } from '../../lib/index';
import type { SubjectSnapshot } from '../../lib/tracker';

/** A Knex tracker counting the guard's hot-path reads (`current`). */
export class CountingTracker extends KnexTracker {
  reads = 0;
  override current(pseudonym: string): Promise<SubjectSnapshot | null> {
    this.reads += 1;
    return super.current(pseudonym);
  }
}

/** A Knex tracker whose state reads hang until `release()`: a store slower than any deadline. */
export class StalledTracker extends KnexTracker {
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  private readonly stalled: Array<Promise<unknown>> = [];

  /** Lets the stalled reads go on, and waits for them to settle. */
  async release(): Promise<void> {
    this.opened();
    await Promise.allSettled(this.stalled);
  }

  override current(pseudonym: string): Promise<SubjectSnapshot | null> {
    const read = this.gate.then(() => super.current(pseudonym));
    this.stalled.push(read);
    return read;
  }
}

/**
 * A loopback TCP proxy to a database server; `shut()` closes it and every connection through
 * it, so the database looks gone to whoever connected through the proxy.
 */
export async function tcpProxy(host: string, port: number): Promise<{ port: number; shut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    shut: () =>
      new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        for (const s of sockets) s.destroy();
      }),
  };
}
