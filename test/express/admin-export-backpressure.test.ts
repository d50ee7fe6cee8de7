import { expect } from 'chai';
import express from 'express';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { sendEventExport } from '../../lib/express/admin-export';
import { EXPORT_PAGE } from '../../lib/io/event-export';
import type { AuditEvent, AuditQuery } from '../../lib/tracker/admin-records';

const PAGES = 60;

/** A synthetic store of PAGES full export pages, counting the reads. */
function syntheticStore() {
  const store = { reads: 0, read: async (query: AuditQuery): Promise<AuditEvent[]> => {
    store.reads += 1;
    const start = query.cursor === undefined ? 1 : Number(query.cursor) + 1;
    const end = Math.min(start + query.limit, PAGES * EXPORT_PAGE + 1);
    return Array.from({ length: Math.max(0, end - start) }, (_, i) => ({
      id: String(start + i), chain: 'c', seq: start + i, requirement: 'analytics', version: 1, action: 'grant', state: 'granted',
      source: 'api', actor: null, at: 1_700_000_000_000, note: null, data: null, ip: null, userAgent: null,
      personalDigest: '', context: null, prevId: null, prevHash: '', hash: '', subject: 'a'.repeat(64),
    }));
  } };
  return store;
}

const settle = async (probe: () => number): Promise<number> => {
  // Waits until the probe stops changing; the assertion below never depends on how long that takes.
  let last = -1;
  for (let still = 0; still < 5;) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    const now = probe();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
};

describe('admin export backpressure', () => {
  let consent: Consent;
  before(async () => {
    consent = createConsent({ tracker: new MemoryTracker(), logger: { warn: () => undefined, error: () => undefined }, secret: 'backpressure-secret-0123456789abcdef' });
    await consent.ready();
  });
  after(() => consent.close());

  it('stops reading the store while the client does not read, and finishes when it does', async () => {
    const store = syntheticStore();
    const app = express();
    app.get('/export', (_req, res, next) => {
      sendEventExport(res, { auditEvents: store.read }, consent.engine.eventIds, consent.engine.options.logger, { format: 'ndjson' }).catch(next);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.pause();
      socket.write('GET /export HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const stalled = await settle(() => store.reads);
      expect(stalled).to.be.greaterThan(0);
      expect(stalled).to.be.lessThan(PAGES / 2);
      let bytes = 0;
      let lines = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (const b of chunk) if (b === 10) lines += 1;
      });
      socket.resume();
      await new Promise((resolve) => socket.on('end', resolve));
      expect(bytes).to.be.greaterThan(0);
      // Header lines of the HTTP response and chunk framing add newlines; every event line is there.
      expect(lines).to.be.at.least(PAGES * EXPORT_PAGE);
      expect(store.reads).to.equal(PAGES + 1);
    } finally {
      server.close();
    }
  });
});
