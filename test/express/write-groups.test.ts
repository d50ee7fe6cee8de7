import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { countStatements } from '../helpers/count-statements';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { expressModule, headerSubject, memoryLogger, REQUIREMENTS, TEST_SECRET } from '../helpers/app';

/**
 * Opens one connection per subject, and once every one is open writes all the PUTs at once:
 * they reach the server together, as from many clients at the same moment. Answers the status
 * of each.
 */
async function putTogether(server: Server, writes: Array<{ subject: string; decision: string }>): Promise<number[]> {
  let accepted = 0;
  const count = () => { accepted += 1; };
  server.on('connection', count);
  const { port } = server.address() as AddressInfo;
  const sockets = await Promise.all(
    writes.map(() => new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => { resolve(socket); });
      socket.on('error', reject);
    })),
  );
  // Connected is not yet accepted: the server takes them in over a few turns of the loop.
  while (accepted < sockets.length) await new Promise((resolve) => setImmediate(resolve));
  server.off('connection', count);
  const answers = sockets.map((socket) => new Promise<number>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('close', () => { resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)); });
  }));
  for (const [i, socket] of sockets.entries()) {
    const { subject, decision } = writes[i] as (typeof writes)[number];
    const body = JSON.stringify({ decision });
    socket.write(
      `PUT /consent/me/analytics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${String(Buffer.byteLength(body))}\r\nx-test-user: ${subject}\r\n\r\n${body}`,
    );
  }
  return Promise.all(answers);
}

for (const client of ['sqlite3', 'better-sqlite3'] as const) {
  describe(`PUT /me/:id requests arriving together over HTTP (${client})`, () => {
    let file: ReturnType<typeof tempSqliteFile>;
    let knex: Knex;
    let consent: Consent;
    let server: Server;

    beforeEach(async () => {
      file = tempSqliteFile();
      knex = knexFactory({ ...sqliteKnexConfig(file.filename), client });
      consent = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), cache: false, storeTimeoutMs: 30_000 });
      consent.register(REQUIREMENTS);
      await consent.ready();
      const app = expressModule()();
      app.use('/consent', consent.router());
      server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => { resolve(s); });
      });
    });

    afterEach(async () => {
      await new Promise((resolve) => server.close(resolve));
      await consent.close();
      await knex.destroy();
      file.cleanup();
    });

    it('share transactions, and every acknowledged write is stored', async () => {
      const people = Array.from({ length: 40 }, (_, i) => `http-${String(i)}`);
      const commits = countStatements(knex, /^commit/i);
      const statuses = await putTogether(server, people.map((subject, i) => ({ subject, decision: i % 2 ? 'denied' : 'granted' })));
      commits.stop();
      expect(statuses).to.deep.equal(people.map(() => 200));
      expect(commits.n, 'commits for 40 writes').to.be.greaterThan(0).and.lessThan(people.length);
      for (const [i, id] of people.entries()) {
        expect((await consent.states(id)).analytics?.state).to.equal(i % 2 ? 'denied' : 'granted');
      }
      expect(await consent.verify()).to.deep.include({ ok: true, checked: people.length });
    });
  });
}
