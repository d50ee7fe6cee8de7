import { createServer, connect, type Server, type Socket } from 'node:net';
import { KnexTracker } from '../../lib/index';
import type { SubjectSnapshot, WritePlan } from '../../lib/tracker/records';

/**
 * A Knex tracker whose writes and erasures are slower than their deadline: a write is planned at
 * once (on the snapshot read then, in time) and written only after `release()`, as a write whose
 * commit is slow; an erasure waits until `release()` before it starts.
 */
export class StalledWriteTracker extends KnexTracker {
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  private readonly stalled: Array<Promise<unknown>> = [];
  stall = true;

  /** Lets the stalled writes go on, and waits for them to settle. */
  async release(): Promise<void> {
    this.opened();
    await Promise.allSettled(this.stalled);
  }

  override write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }> {
    if (!this.stall) return super.write(pseudonym, plan);
    const write = this.current(pseudonym).then(async (snapshot) => {
      if (snapshot === null) throw new Error('a stalled write needs a subject that has written before');
      const planned = plan(snapshot);
      await this.gate;
      return super.write(pseudonym, () => planned);
    });
    this.stalled.push(write);
    return write;
  }

  override erase(pseudonym: string, plan: (snapshot: SubjectSnapshot) => WritePlan): Promise<number | null> {
    if (!this.stall) return super.erase(pseudonym, plan);
    const erase = this.gate.then(() => super.erase(pseudonym, plan));
    this.stalled.push(erase);
    return erase;
  }
}

/**
 * A Knex tracker that fails one write on request: after `failAfter(n)`, it lets `n` more writes
 * commit and rejects the next one before it touches the store (as a lost connection would).
 */
export class FailingWriteTracker extends KnexTracker {
  private left: number | null = null;
  /** Writes this tracker refused so far. */
  failed = 0;

  failAfter(writes: number): void {
    this.left = writes;
  }

  override write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }> {
    if (this.left !== null && this.left-- === 0) {
      this.left = null;
      this.failed += 1;
      return Promise.reject(new Error('connection lost (injected)'));
    }
    return super.write(pseudonym, plan);
  }
}

/** A loopback TCP proxy the test controls: cut, restore, or slow down the way to a server. */
export interface FaultProxy {
  port: number;
  /** Drops every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  /** Holds every chunk from the server back by `ms` (0 to stop). */
  delay(ms: number): void;
  /**
   * Passes nothing more either way, and no end of a connection either (until `restore()`): a
   * server that stopped answering, as a frozen process or a network partition looks.
   */
  freeze(): void;
  close(): Promise<void>;
}

/** Starts a {@link FaultProxy} in front of `host:port`. */
export async function faultProxy(host: string, port: number): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  let frozen = false;
  let delayMs = 0;
  // Half-open: a client's end is passed on (or, frozen, not) instead of being answered here.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        (s === client ? upstream : client).destroy();
      });
      s.on('error', () => s.destroy());
    }
    client.on('data', (chunk: Buffer) => { if (!frozen) upstream.write(chunk); });
    client.on('end', () => { if (!frozen) upstream.end(); });
    upstream.on('data', (chunk: Buffer) => {
      if (frozen) return;
      // Equal delays fire in creation order, so the byte stream keeps its order.
      if (delayMs > 0) setTimeout(() => client.destroyed || client.write(chunk), delayMs);
      else client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
      frozen = false;
    },
    freeze() {
      frozen = true;
    },
    delay(ms) {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        for (const s of sockets) s.destroy();
      }),
  };
}
