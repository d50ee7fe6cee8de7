import { get, type IncomingMessage } from 'node:http';
import type { Knex } from 'knex';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { createConsent, MemoryTracker, type Consent, type RequirementDefinition } from '../../lib/index';
import type { EventScanQuery } from '../../lib/tracker/tracker';
import type { StoredEvent } from '../../lib/tracker/records';
import { BACKENDS, headerSubject, memoryLogger, routerApp, TEST_SECRET, testConsent, type TestDatabase } from '../helpers/app';

const NOW = Date.UTC(2025, 5, 1, 12);
const DAY = 86_400_000;
const clock = () => new Date(NOW);

for (const backend of BACKENDS) {
  backend.describe(`GET /me/export of a long history (${backend.name})`, () => {
    let db: TestDatabase;
    let consent: Consent;
    let knex: Knex;
    let close: () => Promise<void>;

    beforeEach(async () => {
      db = await backend.open();
      const t = await testConsent(db, { now: clock, network: 'full' });
      ({ consent, knex, close } = t);
    });
    afterEach(async () => {
      await close();
      await db.cleanup();
    });

    it('sends 2,500 events, read in several pages: the very document consent.export() gives, byte for byte', async function () {
      this.timeout(120_000);
      const decisions = Array.from({ length: 2_500 }, (_, i) => ({
        subjectId: 'heavy', requirement: i % 2 ? 'analytics' : 'fraud', decision: i % 3 ? 'granted' : 'denied', at: NOW - 30 * DAY + i,
      }));
      await consent.import(decisions, { batchSize: 1_000 });
      await consent.engine.record('heavy', { analytics: 'granted' }, { actor: 'ops', note: 'with a note', data: { k: [1, 'é'] } }, { ip: '192.0.2.0', userAgent: 'UA/1' });
      await consent.engine.record('heavy', { newsletter: 'granted' });
      await consent.record('someone-else', { analytics: 'granted' }, { note: 'not theirs' });
      const res = await request(routerApp(consent)).get('/consent/me/export').set('x-test-user', 'heavy').expect(200);
      expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
      expect(res.headers['cache-control']).to.equal('no-store');
      const doc = await consent.export('heavy');
      expect(doc.events).to.have.length(2_502);
      expect(doc.confirmations).to.have.length(1);
      expect(res.text).to.equal(JSON.stringify(doc));
      expect(res.text).to.not.contain('not theirs');
      const empty = await request(routerApp(consent)).get('/consent/me/export').set('x-test-user', 'nobody').expect(200);
      expect(empty.body).to.deep.equal(await consent.export('nobody'));
      expect(empty.body.events).to.deep.equal([]);
    });

    it('sends no event that fails its check: a 503 before any byte when the first page fails, and a response broken off before a later page that fails', async function () {
      this.timeout(120_000);
      const decisions = Array.from({ length: 1_200 }, (_, i) => ({
        subjectId: 'heavy', requirement: 'analytics', decision: i % 2 ? 'granted' : 'denied', at: NOW - 30 * DAY + i,
      }));
      await consent.import(decisions, { batchSize: 1_000 });
      const { chain } = await knex('consent_subjects').where({ pseudonym: Buffer.from(consent.engine.pseudonym('heavy'), 'hex') }).first<{ chain: Buffer }>('chain');
      const server = routerApp(consent).listen(0);
      try {
        // In the third page of 500: the two before it verify, and are sent.
        await knex('consent_events').where({ chain, seq: 1_100 }).update({ note: 'forged later' });
        const later = await fetchText(server.address() as AddressInfo, '/consent/me/export');
        expect(later.status).to.equal(200);
        expect(later.complete, 'broken off').to.equal(false);
        expect(later.text).to.contain('"events":[');
        expect(later.text).to.not.contain('forged later');
        await knex('consent_events').where({ chain, seq: 1 }).update({ note: 'forged first' });
        const first = await fetchText(server.address() as AddressInfo, '/consent/me/export');
        expect(first.status).to.equal(503);
        expect(JSON.parse(first.text)).to.include({ code: 'store_unavailable' });
        expect(first.text).to.not.contain('forged');
      } finally {
        server.close();
      }
    });
  });
}

/** A response read to its end, or until the server broke it off (`complete` false). */
function fetchText(address: AddressInfo, path: string): Promise<{ status: number; text: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: address.port, path, headers: { 'x-test-user': 'heavy' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('close', () => { resolve({ status: res.statusCode ?? 0, text, complete: res.complete }); });
    }).on('error', reject);
  });
}

/** A memory tracker recording each event scan: its page size, and how much the response had buffered. */
class ScanRecorder extends MemoryTracker {
  scans: Array<{ limit: number; returned: number; buffered: number }> = [];
  buffered: () => number = () => 0;
  override async scanEvents(query: EventScanQuery): Promise<StoredEvent[]> {
    const page = await super.scanEvents(query);
    this.scans.push({ limit: query.limit, returned: page.length, buffered: this.buffered() });
    return page;
  }
}

/** Waits until the probe stops changing; no assertion depends on how long that takes. */
async function settle(probe: () => number): Promise<number> {
  let last = -1;
  for (let still = 0; still < 5;) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    const now = probe();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

describe('GET /me/export streams page by page with backpressure', () => {
  const REQUIREMENT_COUNT = 100;
  const requirements: RequirementDefinition[] = Array.from({ length: REQUIREMENT_COUNT }, (_, i) => ({ id: `r${String(i)}`, title: `R${String(i)}`, description: 'D' }));
  let tracker: ScanRecorder;
  let consent: Consent;

  before(async function () {
    this.timeout(120_000);
    tracker = new ScanRecorder();
    consent = createConsent({ tracker, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), now: clock });
    consent.register(requirements);
    await consent.ready();
    // 20,000 events of about 800 bytes: far more than socket buffers hold.
    const note = 'n'.repeat(500);
    for (let i = 0; i < 200; i += 1) {
      const decision = i % 2 ? 'denied' : 'granted';
      await consent.record('heavy', Object.fromEntries(requirements.map((r) => [r.id, decision])), { note });
    }
  });
  after(() => consent.close());

  it('reads the history in bounded pages, stops reading while the client does not read, and finishes when it does', async function () {
    this.timeout(120_000);
    const app = routerApp(consent);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('request', (_req, res) => {
      tracker.buffered = () => res.writableLength;
    });
    try {
      const expected = await consent.export('heavy');
      tracker.scans = [];
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const port = (server.address() as AddressInfo).port;
        get({ host: '127.0.0.1', port, path: '/consent/me/export', headers: { 'x-test-user': 'heavy' } }, (response) => {
          response.pause();
          resolve(response);
        }).on('error', reject);
      });
      expect(res.statusCode).to.equal(200);
      const stalled = await settle(() => tracker.scans.length);
      // The pages' size (a first read of one event checks that the head is the newest).
      const pages = Math.ceil(expected.events.length / Math.max(...tracker.scans.map((s) => s.limit)));
      // Socket buffers take a few MiB of the 16 MiB document; reading stops once they are full.
      expect(stalled, 'reads done while the client did not read').to.be.greaterThan(0).and.lessThan(pages);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      const ended = new Promise((resolve) => res.on('end', resolve));
      res.resume();
      await ended;
      expect(body).to.equal(JSON.stringify(expected));
      expect(tracker.scans.length, 'the rest is read once the client reads').to.be.at.least(pages).and.greaterThan(stalled);
      const largest = Math.max(...tracker.scans.map((s) => s.returned));
      expect(largest).to.be.at.most(1000);
      for (const scan of tracker.scans) expect(scan.limit).to.be.at.most(1000);
      // Each read starts only once the socket took the previous page: what waits in memory is
      // at most about a page, however long the history.
      const pageBytes = (body.length / tracker.scans.length) * 2;
      expect(Math.max(...tracker.scans.map((s) => s.buffered))).to.be.at.most(pageBytes + 65_536);
    } finally {
      server.close();
    }
  });
});
