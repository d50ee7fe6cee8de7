import { expect } from 'chai';
import { seal } from '../../lib/audit/aead';
import { sealSubject } from '../../lib/audit/subject-seal';
import { audienceWorkers } from '../../lib/core/audience-pool';
import { audienceThreads } from '../../lib/core/audience-checks';
import { ConsentIntegrityError } from '../../lib/errors';
import type { Consent } from '../../lib/index';
import request from 'supertest';
import { BACKENDS, memoryLogger, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';
import { changeRecord, storedRecordsOf, storeRecords } from '../helpers/records';

async function list(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of iterable) out.push(id);
  return out.sort();
}

/** What iterating `iterable` to its end rejected with (undefined when it ended normally). */
async function failure(iterable: AsyncIterable<string>): Promise<unknown> {
  try {
    await list(iterable);
    return undefined;
  } catch (error) {
    return error;
  }
}

// Once on the main thread alone, once with threads judging every page.
for (const [backend, threads] of BACKENDS.flatMap((b) => [[b, false], [b, true]] as const)) {
  backend.describe(`audiences trust no row the head's seal does not vouch for (${backend.name}${threads ? ', pages judged on threads' : ''})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    let logger: ReturnType<typeof memoryLogger>;
    const key = (subject: string): Buffer => Buffer.from(consent.engine.pseudonym(subject), 'hex');
    const subjectRow = async (subject: string): Promise<Record<string, unknown>> => {
      const row: Record<string, unknown> | undefined = await t.knex('consent_subjects').where({ pseudonym: key(subject) }).first();
      return row ?? {};
    };
    const chainOf = async (subject: string): Promise<Buffer> => (await subjectRow(subject)).chain as Buffer;

    const savedWorkers = { size: audienceWorkers.size };
    const savedThreads = { ...audienceThreads };
    let started = 0;

    beforeEach(async () => {
      started = audienceWorkers.started;
      if (threads) {
        audienceWorkers.size = 2;
        Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });
      }
      db = await backend.open();
      logger = memoryLogger();
      t = await testConsent(db, { logger, cache: false, admin: { authorize: () => true } });
      consent = t.consent;
      await consent.record('ann', { analytics: 'granted' });
      await consent.record('bob', { analytics: 'denied' });
      await consent.record('cy', { analytics: 'granted' });
    });
    afterEach(async () => {
      Object.assign(audienceWorkers, savedWorkers);
      Object.assign(audienceThreads, savedThreads);
      await t.close();
      await db.cleanup();
      if (threads) expect(audienceWorkers.started, 'threads judged the pages').to.be.above(started);
    });

    it('lists the untouched store', async () => {
      expect(await list(consent.audience('analytics'))).to.deep.equal(['ann', 'cy']);
      const allowed: string[] = [];
      for await (const id of consent.filterAllowed(['ann', 'bob', 'cy'], 'analytics')) allowed.push(id);
      expect(allowed).to.deep.equal(['ann', 'cy']);
      expect(logger.errors).to.deep.equal([]);
    });

    if (threads) it('lists the same, and fails closed the same, when its threads cannot start', async () => {
      const script = audienceWorkers.script;
      audienceWorkers.script = new URL('file:///nonexistent/audience-worker.js');
      try {
        const audience = consent.audience('analytics');
        expect(await list(audience)).to.deep.equal(['ann', 'cy']);
        expect(audience.summary).to.include({ listed: 2, unreadable: 0 });
        await changeRecord(t.knex, await chainOf('bob'), 'analytics', { decision: 'granted' });
        expect(await failure(consent.audience('analytics'))).to.be.instanceOf(ConsentIntegrityError);
      } finally {
        audienceWorkers.script = script;
      }
    });

    it('refuses a page whose last subject gained a record whose requirement ends in "[" as an integrity failure, whatever the page size', async () => {
      const last: Record<string, unknown> | undefined = await t.knex('consent_subjects').orderBy('chain', 'desc').first();
      const chain = last?.chain as Buffer;
      await changeRecord(t.knex, chain, 'zzz[', { decision: 'granted', version: 1, decidedAt: 1 });
      for (const batchSize of [1, 2, 3, 1000]) expect(await failure(consent.audience('analytics', { batchSize })), `pages of ${String(batchSize)}`).to.be.instanceOf(ConsentIntegrityError);
      expect(logger.errors.length).to.be.at.least(4);
      // A record is bytes (hex) in a page's JSON text: what could carry `["`, which begins every
      // row, is the records column itself. Stored as text holding `["` (SQLite keeps the text; a
      // PostgreSQL bytea takes its bytes, which are no records): nothing may be read from the page
      // but by parsing it and decoding the records, and the subject's records are none it can trust.
      await t.knex('consent_subjects').where({ chain }).update({ records: '["zzz[",["' });
      for (const batchSize of [1, 2, 3, 1000]) expect(await failure(consent.audience('analytics', { batchSize })), `records as text, pages of ${String(batchSize)}`).to.be.instanceOf(ConsentIntegrityError);
      expect(logger.errors.length).to.be.at.least(8);
    });

    it('refuses a subject row with an empty chain key as an integrity failure, whatever the page size', async () => {
      const any: Record<string, unknown> | undefined = await t.knex('consent_subjects').first();
      await t.knex('consent_subjects').insert({ ...any, chain: Buffer.alloc(0), pseudonym: Buffer.alloc(32, 7) });
      for (const batchSize of [1, 2, 1000]) expect(await failure(consent.audience('analytics', { batchSize })), `pages of ${String(batchSize)}`).to.be.instanceOf(ConsentIntegrityError);
    });

    if (backend.name === 'SQLite file') it('refuses a chain key stored as text as an integrity failure, instead of paging past the subjects it sorts apart from', async () => {
      // SQLite sorts a text before every blob: a page cut at such a key left out the subjects between.
      await t.knex.raw('update consent_subjects set chain = cast(chain as text) where chain = ?', [await chainOf('cy')]);
      for (const batchSize of [1, 2, 1000]) expect(await failure(consent.audience('analytics', { batchSize })), `pages of ${String(batchSize)}`).to.be.instanceOf(ConsentIntegrityError);
      expect(logger.errors.length).to.be.at.least(3);
      expect((await consent.verify()).problems.map((p) => p.kind)).to.include('subject_link');
    });

    it('fails closed when a state row was changed in the database, instead of listing the subject', async () => {
      await changeRecord(t.knex, await chainOf('bob'), 'analytics', { decision: 'granted' });
      const listed = await failure(consent.audience('analytics'));
      expect(listed).to.be.instanceOf(ConsentIntegrityError);
      // Even an audience the altered row would not have joined stops: the page cannot be trusted.
      expect(await failure(consent.audience('analytics', { allowed: false }))).to.be.instanceOf(ConsentIntegrityError);
      const filtered = await failure(consent.filterAllowed(['ann', 'bob'], 'analytics'));
      expect(filtered).to.be.instanceOf(ConsentIntegrityError);
      expect(logger.errors.length).to.be.at.least(3);
      // The admin download answers a problem before any output, never a partial list.
      const res = await request(routerApp(consent)).get('/consent/admin/requirements/analytics/subjects?format=ndjson');
      expectProblem(res, 503, 'store_unavailable');
    });

    it('fails closed when a state row was added or deleted', async () => {
      // A copy of ann's record, for another requirement.
      const [row] = await storedRecordsOf(t.knex, await chainOf('ann'));
      expect(row?.requirement).to.equal('analytics');
      await changeRecord(t.knex, await chainOf('ann'), 'ads', { ...row, requirement: 'ads' });
      expect(await failure(consent.audience('ads'))).to.be.instanceOf(ConsentIntegrityError);
      // Every record of cy gone, and the added one again.
      await storeRecords(t.knex, await chainOf('cy'), []);
      await changeRecord(t.knex, await chainOf('ann'), 'ads', null);
      expect(await failure(consent.audience('analytics', { allowed: false }))).to.be.instanceOf(ConsentIntegrityError);
      expect(await failure(consent.filterAllowed(['cy'], 'analytics'))).to.be.instanceOf(ConsentIntegrityError);
    });

    it('does not list an id sealed for one subject on another subject\'s chain', async () => {
      // Copied as stored: bound to ann's chain, it does not open on bob's.
      const annSealed = (await subjectRow('ann')).sealed_subject as Buffer;
      await t.knex('consent_subjects').where({ pseudonym: key('cy') }).update({ sealed_subject: annSealed });
      const audience = consent.audience('analytics');
      expect(await list(audience)).to.deep.equal(['ann']);
      expect(audience.summary).to.include({ listed: 1, unreadable: 1 });
      // Sealed as SIV for cy's pseudonym with the real key: it decrypts to 'ann', whose
      // pseudonym is not cy's, so it does not open.
      const siv = sealSubject(consent.engine.derivedKeys.subjectSiv, 'ann', key('cy').toString('hex'));
      await t.knex('consent_subjects').where({ pseudonym: key('cy') }).update({ sealed_subject: Buffer.from(siv, 'hex') });
      expect(await list(consent.audience('analytics'))).to.deep.equal(['ann']);
      // Sealed as an earlier release did, for cy's chain with the real key (only a holder of the
      // secret can): it opens, but names a subject the chain is not linked to.
      const cyChain = (await chainOf('cy')).toString('hex');
      const forged = seal(consent.engine.derivedKeys.subject, 'ann', Buffer.from(cyChain, 'utf8')).toString('hex');
      await t.knex('consent_subjects').where({ pseudonym: key('cy') }).update({ sealed_subject: Buffer.from(forged, 'hex') });
      expect(await failure(consent.audience('analytics'))).to.be.instanceOf(ConsentIntegrityError);
    });
  });
}
