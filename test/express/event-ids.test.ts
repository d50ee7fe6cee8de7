import { expect } from 'chai';
import type { Express } from 'express';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { createConsent, type ChangePayload, type Consent, type ConsentEvent } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, headerSubject, memoryLogger, REQUIREMENTS, routerApp, TEST_SECRET, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { waitUntil } from '../core/wait-until';

const OTHER_SECRET = 'another-deployment-secret-0123456789abcdef';
const ALICE = { 'x-test-user': 'alice' };
const BOB = { 'x-test-user': 'bob' };

/** How many positions two strings share: ids from a counter share most of them. */
const samePositions = (a: string, b: string) => Array.from(a).filter((c, i) => b[i] === c).length;

/** Reads a download whole (supertest leaves CSV and NDJSON unparsed). */
const text = (res: NodeJS.EventEmitter, done: (error: Error | null, body: string) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => void chunks.push(chunk));
  res.on('end', () => { done(null, Buffer.concat(chunks).toString('utf8')); });
};

for (const backend of BACKENDS) {
  backend.describe(`event ids: opaque, and one per event everywhere (${backend.name})`, function (this: Mocha.Suite) {
    this.timeout(60_000);
    let db: TestDatabase;
    let knex: Knex;
    let consent: Consent;
    let app: Express;
    let others: Consent[];
    let changes: ChangePayload[];
    let durable: ChangePayload[];

    let elsewhere: Array<() => Promise<void>>;

    function open(secret: string, on: Knex = knex): Consent {
      const instance = createConsent({
        knex: on,
        secret,
        subject: headerSubject,
        admin: { authorize: headerAdmin },
        sweep: false,
        outbox: { pollMs: 10, leaseMs: 60_000, retryMs: 5, maxRetryMs: 20 },
        logger: memoryLogger(),
      });
      instance.register(REQUIREMENTS);
      return instance;
    }

    /** Alice's history through HTTP, newest first. */
    const history = async (app_ = app): Promise<ConsentEvent[]> =>
      (await request(app_).get('/consent/me/history?limit=200').set(ALICE).expect(200)).body.events;

    /** The writes every test starts from. */
    async function writeAll(app_: Express): Promise<void> {
      await request(app_).put('/consent/me/analytics').set(ALICE).send({ decision: 'granted' }).expect(200);
      await request(app_).put('/consent/me/ads').set(BOB).send({ decision: 'denied' }).expect(200);
      await request(app_).post('/consent/me').set(ALICE).send({ decisions: { ads: 'granted', terms: 'granted' } }).expect(200);
      await request(app_).delete('/consent/me/analytics').set(ALICE).expect(200);
      await request(app_).put('/consent/me/fraud').set(BOB).send({ decision: 'granted' }).expect(200);
      await request(app_).put('/consent/me/ads').set(ALICE).send({ decision: 'denied', note: 'changed my mind' }).expect(200);
    }

    /**
     * Another deployment: a database of its own under another secret (a store refuses to start
     * under a secret other than its own), given the same writes, so its events are stored under
     * the same ids as this one's.
     */
    async function anotherDeployment(): Promise<{ instance: Consent; storedIds: () => Promise<number[]> }> {
      const otherDb = await backend.open();
      const otherKnex = knexFactory(otherDb.config);
      const instance = open(OTHER_SECRET, otherKnex);
      elsewhere.push(async () => {
        await instance.close();
        await otherKnex.destroy();
        await otherDb.cleanup();
      });
      await instance.ready();
      await writeAll(routerApp(instance));
      return { instance, storedIds: () => storedIds(otherKnex) };
    }

    const storedIds = async (on: Knex): Promise<number[]> => (await on('consent_events').orderBy('id').select('id')).map((row: { id: unknown }) => Number(row.id));

    beforeEach(async () => {
      db = await backend.open();
      knex = knexFactory(db.config);
      others = [];
      elsewhere = [];
      changes = [];
      durable = [];
      consent = open(TEST_SECRET);
      consent.on('change', (payload) => void changes.push(payload));
      consent.on('change', (payload) => void durable.push(payload), { name: 'ids-test' });
      await consent.ready();
      app = routerApp(consent);
      await writeAll(app);
    });

    afterEach(async () => {
      for (const cleanup of elsewhere) await cleanup();
      for (const instance of [consent, ...others]) await instance.close();
      await knex.destroy();
      await db.cleanup();
    });

    it('gives ids that are not numbers and unrelated to one another, while the stored ids count up', async () => {
      const stored = (await knex('consent_events').orderBy('id').select('id')).map((row: { id: unknown }) => Number(row.id));
      expect(stored).to.deep.equal(stored.map((_, i) => (stored[0] as number) + i), 'what the public ids must not show');
      const ids = (await history()).map((e) => e.id);
      expect(ids).to.have.length(5);
      expect(new Set(ids).size).to.equal(ids.length);
      for (const id of ids) {
        expect(id).to.be.a('string');
        expect(Number.isNaN(Number(id)), id).to.equal(true);
      }
      for (let i = 1; i < ids.length; i += 1) {
        expect(samePositions(ids[i - 1] as string, ids[i] as string), `${String(ids[i - 1])} and ${String(ids[i])}`).to.be.below(8);
      }
    });

    it('keeps an event\'s id across reads and instances with the same secret, and not under another secret', async () => {
      const ids = (await history()).map((e) => e.id);
      expect((await history()).map((e) => e.id)).to.deep.equal(ids);
      expect((await consent.history('alice')).events.map((e) => e.id)).to.deep.equal(ids);
      const twin = open(TEST_SECRET);
      others.push(twin);
      await twin.ready();
      expect((await history(routerApp(twin))).map((e) => e.id)).to.deep.equal(ids);

      // Another deployment (another secret) lists the same events, stored under the same ids, under other public ids.
      const listing = async (instance: Consent) =>
        (await request(routerApp(instance)).get('/consent/admin/events?limit=200').set(ADMIN).expect(200)).body.events as Array<{ id: string; requirement: string; action: string }>;
      const { instance: other, storedIds: theirStoredIds } = await anotherDeployment();
      expect(await theirStoredIds()).to.deep.equal(await storedIds(knex));
      const [mine, theirs] = [await listing(consent), await listing(other)];
      expect(theirs.map((e) => [e.requirement, e.action])).to.deep.equal(mine.map((e) => [e.requirement, e.action]));
      const shared = theirs.filter((e) => mine.some((m) => m.id === e.id));
      expect(shared).to.deep.equal([]);
    });

    it('names an event by the same id in history, exports, change events, admin routes, console and verify()', async () => {
      const newest = await history();
      const ids = newest.map((e) => e.id);
      expect(ids.filter((id) => /^[0-9]+$/.test(id))).to.deep.equal([], 'the ids compared below are the public ones');
      const oldest = [...ids].reverse();
      const pseudonym = consent.engine.pseudonym('alice');

      const exported = (await request(app).get('/consent/me/export').set(ALICE).expect(200)).body as { events: ConsentEvent[] };
      expect(exported.events.map((e) => e.id)).to.deep.equal(oldest);
      expect((await consent.export('alice')).events.map((e) => e.id)).to.deep.equal(oldest);

      expect(changes.filter((c) => c.subjectId === 'alice').map((c) => c.eventId)).to.deep.equal(oldest);
      await waitUntil(() => durable.length === changes.length, 'the durable handler to receive every change');
      expect(durable.filter((c) => c.subjectId === 'alice').map((c) => c.eventId)).to.have.members(oldest);

      const adminHistory = (await request(app).get('/consent/admin/subjects/alice/history').set(ADMIN).expect(200)).body.events as ConsentEvent[];
      expect(adminHistory).to.deep.equal(newest);
      const adminEvents = (await request(app).get('/consent/admin/events?limit=200').set(ADMIN).expect(200)).body.events as Array<ConsentEvent & { subject: string }>;
      expect(adminEvents.filter((e) => e.subject === pseudonym).map((e) => e.id)).to.deep.equal(ids);

      const ndjson = (await request(app).get('/consent/admin/export?format=ndjson').set(ADMIN).buffer(true).parse(text).expect(200)).body as string;
      const rows = ndjson.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; subject: string });
      expect(rows.map((r) => r.id)).to.deep.equal([...adminEvents].reverse().map((e) => e.id));
      const csv = (await request(app).get('/consent/admin/export?format=csv').set(ADMIN).buffer(true).parse(text).expect(200)).body as string;
      expect(csv.trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[0])).to.deep.equal(rows.map((r) => r.id));
      const console_ = await request(app).get('/consent/admin/console/export?format=ndjson').set(ADMIN).buffer(true).parse(text).expect(200);
      expect(console_.body).to.equal(ndjson);

      // The second event of alice's chain, changed behind the library's back.
      const [, second] = await knex('consent_events as e').join('consent_subjects as s', 's.chain', 'e.chain')
        .where('s.pseudonym', Buffer.from(pseudonym, 'hex')).orderBy('e.seq').select('e.id');
      await knex('consent_events').where({ id: second.id }).update({ note: 'forged' });
      const problems = [{ eventId: oldest[1], kind: 'modified' }];
      expect((await consent.verify()).problems).to.deep.equal(problems);
      expect((await request(app).get('/consent/admin/verify').set(ADMIN).expect(200)).body.problems).to.deep.equal(problems);
      expect((await request(app).get('/consent/admin/verify?subjectId=alice').set(ADMIN).expect(200)).body.problems).to.deep.equal(problems);
      const page = (await request(app).get('/consent/admin/console/subject?id=alice').set(ADMIN).expect(200)).text;
      expect(page).to.include(`modified at event ${String(oldest[1])}`);
    });

    it('pages with cursors that reveal no stored id, and answers a forged cursor with 400', async () => {
      const all = (await history()).map((e) => e.id);
      const seen: string[] = [];
      for (let cursor: string | null = null, pages = 0; pages === 0 || cursor !== null; pages += 1) {
        const res = await request(app).get(`/consent/me/history?limit=2${cursor ? `&cursor=${cursor}` : ''}`).set(ALICE).expect(200);
        seen.push(...(res.body.events as ConsentEvent[]).map((e) => e.id));
        cursor = res.body.nextCursor as string | null;
      }
      expect(seen).to.deep.equal(all);

      const everyone = (await request(app).get('/consent/admin/events?limit=200').set(ADMIN).expect(200)).body.events as ConsentEvent[];
      const listed: string[] = [];
      const cursors: string[] = [];
      for (let cursor: string | null = null, pages = 0; pages === 0 || cursor !== null; pages += 1) {
        const res = await request(app).get(`/consent/admin/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`).set(ADMIN).expect(200);
        listed.push(...(res.body.events as ConsentEvent[]).map((e) => e.id));
        cursor = res.body.nextCursor as string | null;
        if (cursor !== null) cursors.push(cursor);
      }
      expect(listed).to.deep.equal(everyone.map((e) => e.id));
      expect(cursors).to.have.length(2);
      // A counter behind a letter or two, base64url-encoded, would decode to exactly that.
      for (const cursor of cursors) expect(Buffer.from(cursor, 'base64url').toString('latin1'), cursor).not.to.match(/^[a-z]{0,2}[0-9]+$/);

      const id = all[0] as string;
      const flipped = `${id.slice(0, 8)}${id[8] === 'A' ? 'B' : 'A'}${id.slice(9)}`;
      const { instance: other } = await anotherDeployment();
      const foreign = ((await request(routerApp(other)).get('/consent/admin/events?limit=1').set(ADMIN).expect(200)).body.events as ConsentEvent[])[0]!.id;
      const forged = ['zzz', flipped, foreign, Buffer.from('e3').toString('base64url'), `${id}x`, 'A'.repeat(300), '%00'];
      for (const cursor of forged) {
        const admin = await request(app).get(`/consent/admin/events?cursor=${encodeURIComponent(cursor)}`).set(ADMIN);
        expect(expectProblem(admin, 400, 'invalid_body').errors, cursor).to.deep.equal([{ pointer: '/cursor', detail: 'must be a cursor returned as nextCursor' }]);
        const mine = await request(app).get(`/consent/me/history?cursor=${encodeURIComponent(cursor)}`).set(ALICE);
        expect((expectProblem(mine, 400, 'invalid_body').errors as Array<{ pointer: string }>).map((e) => e.pointer), cursor).to.deep.equal(['/cursor']);
      }
      expectProblem(await request(app).get(`/consent/admin/events?cursor=${id}&cursor=${id}`).set(ADMIN), 400, 'invalid_body');
      expectProblem(await request(app).get('/consent/me/history?cursor=a&cursor=b').set(ALICE), 400, 'invalid_body');
      expect((await history()).map((e) => e.id)).to.deep.equal(all, 'nothing changed');
    });
  });
}
