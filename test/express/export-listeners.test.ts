import { connect, type AddressInfo, type Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { expect } from 'chai';
import express from 'express';
import { createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { EXPORT_PAGE } from '../../lib/io/event-export';
import type { AuditEvent, AuditQuery } from '../../lib/tracker/admin-records';
import { express4, headerSubject, memoryLogger, TEST_SECRET, type ExpressModule } from '../helpers/app';
import { headerAdmin } from '../helpers/admin';

const PAGES = 100;

/** A memory tracker whose admin search holds PAGES full pages of events (a long export). */
class LongHistoryTracker extends MemoryTracker {
  override async auditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const start = query.cursor === undefined ? 1 : Number(query.cursor) + 1;
    const end = Math.min(start + query.limit, PAGES * EXPORT_PAGE + 1);
    return Array.from({ length: Math.max(0, end - start) }, (_, i) => ({
      id: String(start + i), chain: 'c', seq: start + i, requirement: 'analytics', version: 1, action: 'grant', state: 'granted',
      source: 'api', actor: null, at: 1_700_000_000_000 + i, note: null, data: null, ip: null, userAgent: null,
      personalDigest: '', context: null, prevId: null, prevHash: '', hash: '', subject: 'f'.repeat(64),
    }));
  }
}

/** Listener counts of every event an emitter has listeners for. */
const listeners = (emitter: EventEmitter): Record<string, number> =>
  Object.fromEntries(emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]));

/** Resolves once `socket` has delivered one more chunk (it is paused again right after). */
const oneChunk = (socket: Socket): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      socket.pause();
      socket.off('end', onEnd);
      resolve(chunk);
    };
    const onEnd = () => {
      socket.off('data', onData);
      reject(new Error('the response ended'));
    };
    socket.once('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  });

const majors: Array<[string, () => ExpressModule]> = [['Express 5', () => express], ['Express 4', express4]];

for (const [major, lib] of majors) {
  describe(`a slow client reading a long console export (${major})`, function (this: Mocha.Suite) {
    this.timeout(60_000);
    let consent: Consent;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);

    before(async () => {
      consent = createConsent({ tracker: new LongHistoryTracker(), subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), admin: { authorize: headerAdmin } });
      await consent.ready();
      process.on('warning', onWarning);
    });
    after(async () => {
      process.off('warning', onWarning);
      await consent.close();
    });

    it('waits on the socket many times and leaves no listener behind on the response or the socket', async () => {
      const app = lib()();
      // What the request saw as it came in, before the export added anything.
      const start: { response?: EventEmitter & { socket: Socket | null }; connection?: Socket; socket?: Record<string, number> } = {};
      app.use((_req, res, next) => {
        start.response = res;
        start.connection = res.socket as Socket;
        start.socket = listeners(res.socket as Socket);
        next();
      });
      app.use('/consent', consent.router());
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
        client.pause();
        client.write('GET /consent/admin/console/export?format=csv HTTP/1.1\r\nHost: x\r\nx-admin: yes\r\n\r\n');
        // Read a chunk at a time: every chunk frees a little room, so the server waits again.
        const seen: Array<{ res: Record<string, number>; socket: Record<string, number> }> = [];
        let bytes = 0;
        let lines = 0;
        let tail = '';
        const count = (chunk: Buffer) => {
          bytes += chunk.length;
          for (const b of chunk) if (b === 10) lines += 1;
          tail = (tail + chunk.toString('latin1')).slice(-7);
        };
        for (let step = 0; step < 60; step += 1) {
          count(await oneChunk(client));
          const res = start.response as EventEmitter & { socket: Socket | null };
          if (res.socket) seen.push({ res: listeners(res), socket: listeners(res.socket) });
        }
        expect(bytes).to.be.lessThan(PAGES * EXPORT_PAGE * 100, 'the export is still running');
        // However many times the server waited, each emitter has the same listeners throughout.
        const first = seen[0];
        expect(seen.length).to.equal(60);
        for (const counts of seen) expect(counts).to.deep.equal(first);
        // The socket keeps exactly the listeners the HTTP server gave it; the export adds none.
        expect(first?.socket).to.deep.equal(start.socket);

        // The rest at full speed, up to the last chunk of the chunked encoding.
        await new Promise<void>((resolve) => {
          client.on('data', (chunk: Buffer) => {
            count(chunk);
            if (tail === '\r\n0\r\n\r\n') resolve();
          });
          client.resume();
        });
        expect(lines).to.be.at.least(PAGES * EXPORT_PAGE);
        await new Promise((resolve) => setImmediate(resolve));
        // The connection stays open for the next request (keep-alive) with no listener the export
        // added; the finished response has no more than it had while streaming.
        const connection = start.connection as Socket;
        expect(connection.destroyed).to.equal(false);
        for (const [name, n] of Object.entries(listeners(connection))) expect(n, name).to.be.at.most(start.socket?.[name] ?? 0);
        for (const [name, n] of Object.entries(listeners(start.response as EventEmitter))) expect(n, name).to.be.at.most(first?.res[name] ?? 0);
        expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).to.deep.equal([]);
        client.destroy();
      } finally {
        server.close();
      }
    });
  });
}
