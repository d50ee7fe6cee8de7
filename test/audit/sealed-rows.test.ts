import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { ConsentConfigError, ConsentStoreError, createConsent, type Consent, type RequirementDefinition } from '../../lib/index';
import { BACKENDS, memoryLogger, TEST_SECRET, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { guardApp } from '../helpers/guard-app';
import { allStoredRecords, changeRecord, storedRecordsOf, storeRecords } from '../helpers/records';
import type { CurrentRecord } from '../../lib/tracker/records';

/*
 * The rows the read paths trust besides the events (the current records a subject row holds, the
 * subject link, requirement versions), changed by someone with write access to the database but
 * not the secret: every change is either refused by the reads (a storage failure, never consent)
 * and named by verify(), or changes nothing the library reports.
 */

const DAY = 86_400_000;
const START = Date.parse('2025-03-01T00:00:00.000Z');

const REQUIREMENTS: RequirementDefinition[] = [
  { id: 'analytics', title: 'Usage analytics', description: 'Pages you open.', expiresAfterDays: 30 },
  { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.', doubleOptIn: true },
  { id: 'ads', title: 'Personalised ads', description: 'Ads based on what you read.', gpc: true },
  { id: 'fraud', title: 'Fraud checks', description: 'We check payments.', lawfulBasis: 'legitimate_interests', gpc: true },
  { id: 'terms', title: 'Terms of service', description: 'The contract.', lawfulBasis: 'contract' },
];
const IDS = REQUIREMENTS.map((r) => r.id);

/** Bytes of a hex value, as stored. */
const bin = (hex: string): Buffer => Buffer.from(hex, 'hex');

/** What the library reports about a subject, or the error it refuses with. */
async function observed(consent: Consent, subject: string): Promise<unknown> {
  try {
    const states = await consent.states(subject);
    const allowed = await Promise.all(IDS.map((id) => consent.isAllowed(subject, id)));
    const receipt = await consent.receipt(subject);
    const exported = await consent.export(subject);
    return {
      states,
      allowed,
      pending: await consent.pending(subject),
      decisions: receipt.decisions,
      exported: { ...exported, exportedAt: null },
    };
  } catch (error) {
    return { refused: error instanceof ConsentStoreError ? error.code : String(error) };
  }
}

for (const backend of BACKENDS) {
  backend.describe(`sealed rows: records, subject links and requirement versions (${backend.name})`, () => {
    let db: TestDatabase;
    let consent: Consent;
    let knex: Knex;
    let close: () => Promise<void>;
    let now: number;
    let logger: ReturnType<typeof memoryLogger>;

    const pseudonym = (subject: string) => consent.engine.pseudonym(subject);
    const subjectRow = (subject: string) => knex('consent_subjects').where({ pseudonym: bin(pseudonym(subject)) });
    const chainOf = async (subject: string): Promise<Buffer> => {
      const row: { chain: Buffer } = await subjectRow(subject).first('chain');
      return row.chain;
    };
    const kinds = async () => (await consent.verify()).problems.map((p) => p.kind).sort();

    beforeEach(async () => {
      db = await backend.open();
      now = START;
      logger = memoryLogger();
      ({ consent, knex, close } = await testConsent(db, { cache: false, logger, now: () => new Date(now) }, REQUIREMENTS));
      await consent.record('alice', { analytics: 'granted', fraud: 'denied', ads: 'granted' }, { note: 'signup' });
      await consent.record('alice', { analytics: 'denied' });
      await consent.record('bob', { analytics: 'granted', fraud: 'granted' });
      await consent.record('carol', { analytics: 'granted' });
    });

    afterEach(async () => {
      await close();
      await db.cleanup();
    });

    it('verifies an untouched store, also after double opt-in, GPC, import, sweep and erasure', async () => {
      const tokens: string[] = [];
      consent.on('confirmation', (event) => { tokens.push(event.token); });
      const { app, calls } = guardApp(consent);
      await request(app).put('/consent/me/newsletter').set('x-test-user', 'dora').send({ decision: 'granted' }).expect(202);
      await request(app).post(`/consent/confirm/${tokens[0] as string}`).expect(200);
      await request(app).put('/consent/me/newsletter').set('x-test-user', 'erin').send({ decision: 'granted' }).expect(202);
      await request(app).put('/consent/me/analytics').set('x-test-user', 'fred').set('sec-gpc', '1').send({ decision: 'granted' }).expect(200);
      await consent.import([
        { subjectId: 'gina', requirement: 'analytics', decision: 'granted', at: START - 40 * DAY },
        { subjectId: 'alice', requirement: 'ads', decision: 'denied', at: START },
      ]);
      now = START + 31 * DAY;
      expect((await consent.sweep()).recorded).to.be.greaterThan(0);
      await consent.erase('carol');
      expect(await consent.verify()).to.include({ ok: true });
      await request(app).get('/ads').set('x-test-user', 'fred').expect(403);
      expect((await consent.states('dora')).newsletter?.state).to.equal('granted');
      expect((await consent.states('erin')).newsletter?.state).to.equal('unset', 'its confirmation lapsed: the state before it');
      expect(calls).to.deep.equal({});
      expect(logger.errors).to.deep.equal([]);
    });

    it('refuses an edited record in the subject row everywhere it would be trusted, and names it (state_mismatch)', async () => {
      const chain = await chainOf('alice');
      expect((await storedRecordsOf(knex, chain)).find((r) => r.requirement === 'analytics')).to.include({ decision: 'denied' });
      await changeRecord(knex, chain, 'analytics', { decision: 'granted', expiresAt: START + 30 * DAY });
      const { app, calls } = guardApp(consent);
      const guarded = await request(app).get('/track').set('x-test-user', 'alice');
      expect(guarded.status).to.equal(503);
      expect(calls).to.deep.equal({}, 'the guard never lets it through');
      for (const read of [
        () => consent.states('alice'),
        () => consent.isAllowed('alice', 'analytics'),
        () => consent.pending('alice'),
        () => consent.receipt('alice'),
        () => consent.export('alice'),
        () => consent.stateAt('alice', 'analytics', START),
        () => consent.record('alice', { ads: 'denied' }),
      ]) {
        let error: unknown;
        await read().catch((e: unknown) => { error = e; });
        expect(error, read.toString()).to.be.instanceOf(ConsentStoreError).with.property('code', 'store_unavailable');
      }
      expect(logger.errors).to.not.deep.equal([]);
      const latest = (await consent.history('bob')).events;
      expect(latest).to.have.length(2, 'other subjects read and write as before');
      // A sweep skips the refused subject (its forged grant lapses too), counts and logs it, and records the others' expiries.
      now = START + 31 * DAY;
      const logged = logger.errors.length;
      expect(await consent.sweep()).to.deep.equal({ recorded: 2, refused: 1 });
      expect(logger.errors.slice(logged)).to.have.length(1);
      expect((logger.errors[logged] as { message: string }).message).to.contain('fail their seal');
      expect(await consent.sweep()).to.deep.equal({ recorded: 0, refused: 1 }, 'refused again, never recorded');
      const { problems } = await consent.verify();
      const newest = (await knex('consent_events').where({ chain, requirement: 'analytics' }).max({ id: 'id' }).first()) as { id: number | string };
      expect(problems).to.deep.equal([
        { eventId: consent.engine.eventIds.encode(String(newest.id)), kind: 'state_mismatch', chain: chain.toString('hex'), requirement: 'analytics' },
      ]);
      expect((await consent.verify({ subjectId: 'alice' })).problems.map((p) => p.kind)).to.deep.equal(['state_mismatch']);
    });

    it('refuses a subject row put back from an earlier copy also when the newer event\'s position was stored as another type', async () => {
      const bobChain = await chainOf('bob');
      const copy = (await subjectRow('bob').first()) as Record<string, unknown>;
      await consent.record('bob', { analytics: 'denied' });
      await knex('consent_subjects').where({ chain: bobChain }).update(copy);
      const newest = (await knex('consent_events').where({ chain: bobChain }).orderBy('id', 'desc').first()) as Record<string, unknown>;
      // SQLite keeps what it is given: a position as bytes (or text) is no longer equal to the
      // head's plus one, yet still sorts after it. PostgreSQL's bigint takes no other type.
      if (backend.name === 'SQLite file') await knex.raw('update consent_events set seq = cast(cast(seq as text) as blob) where id = ?', [newest.id as number]);
      expect(await consent.states('bob').catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      const listed: string[] = [];
      const listing = await (async () => { for await (const id of consent.audience('analytics')) listed.push(id); })().catch((e: unknown) => e);
      expect(listing).to.be.instanceOf(ConsentStoreError);
      expect(listed).to.not.include('bob');
    });

    it('refuses a subject row put back from an earlier copy while its newer events stay, and names those events (rollback)', async () => {
      const bobChain = await chainOf('bob');
      const copy = (await subjectRow('bob').first()) as Record<string, unknown>;
      await consent.record('bob', { analytics: 'denied' });
      const withdrawal = (await consent.history('bob', { limit: 1 })).events[0]?.id;
      // Bob's head, seal and records as they were before his withdrawal, whose event stays: every seal checks.
      await knex('consent_subjects').where({ chain: bobChain }).update(copy);
      expect((await storedRecordsOf(knex, bobChain)).find((r) => r.requirement === 'analytics')).to.include({ decision: 'granted' });
      const { app, calls } = guardApp(consent);
      expect((await request(app).get('/track').set('x-test-user', 'bob')).status).to.equal(503);
      expect((await request(app).get('/consent/me').set('x-test-user', 'bob')).status).to.equal(503);
      // The streamed export sends the states before the events: refused before its first byte.
      const exported = await request(app).get('/consent/me/export').set('x-test-user', 'bob');
      expect(exported.status).to.equal(503);
      expect(exported.text).to.not.contain('"granted"');
      expect(calls).to.deep.equal({}, 'the guard never lets it through');
      for (const read of [
        () => consent.states('bob'),
        () => consent.isAllowed('bob', 'analytics'),
        () => consent.pending('bob'),
        () => consent.receipt('bob'),
        () => consent.export('bob'),
        () => consent.stateAt('bob', 'analytics', now),
        () => consent.record('bob', { analytics: 'denied' }),
        async () => { for await (const id of consent.filterAllowed(['bob'], 'analytics')) return id; return null; },
      ]) {
        let error: unknown;
        await read().catch((e: unknown) => { error = e; });
        expect(error, read.toString()).to.be.instanceOf(ConsentStoreError).with.property('code', 'store_unavailable');
      }
      const listed: string[] = [];
      const listing = await (async () => { for await (const id of consent.audience('analytics')) listed.push(id); })().catch((e: unknown) => e);
      expect(listing).to.be.instanceOf(ConsentStoreError);
      expect(listed).to.not.include('bob');
      expect(logger.errors.map((e) => (e as { message: string }).message).join('\n')).to.contain('fail their seal');
      expect((await consent.states('carol')).analytics?.state).to.equal('granted', 'other subjects read as before');
      const expected = [{ eventId: withdrawal, kind: 'rollback', chain: bobChain.toString('hex') }];
      expect((await consent.verify()).problems).to.deep.equal(expected);
      expect((await consent.verify({ subjectId: 'bob' })).problems).to.deep.equal(expected);
    });

    it('names a record deleted from or added to the subject row (state_mismatch), and a legitimate-interests objection deleted with it', async () => {
      const alice = await chainOf('alice');
      expect((await storedRecordsOf(knex, alice)).find((r) => r.requirement === 'fraud')).to.include({ decision: 'denied' });
      await changeRecord(knex, alice, 'fraud', null);
      const bob = await chainOf('bob');
      const record = (await storedRecordsOf(knex, bob)).find((r) => r.requirement === 'analytics');
      expect(record).to.include({ decision: 'granted' });
      expect((await storedRecordsOf(knex, bob)).map((r) => r.requirement)).to.not.include('ads');
      await changeRecord(knex, bob, 'ads', { ...record, requirement: 'ads' });
      expect(await consent.isAllowed('alice', 'fraud').catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      expect(await consent.isAllowed('bob', 'ads').catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      const { problems } = await consent.verify();
      expect(problems.map((p) => [p.kind, p.requirement])).to.have.deep.members([['state_mismatch', 'fraud'], ['state_mismatch', 'ads']]);
    });

    it('confirms a link only through the sealed record of the subject it names: a token moved to another subject confirms nothing', async () => {
      const tokens: string[] = [];
      consent.on('confirmation', (event) => { tokens.push(event.token); });
      const { app, calls } = guardApp(consent);
      for (const subject of ['dora', 'erin']) await request(app).put('/consent/me/newsletter').set('x-test-user', subject).send({ decision: 'granted' }).expect(202);
      const [dora, erin] = [await chainOf('dora'), await chainOf('erin')];
      const tokenOf = async (chain: Buffer) => (await storedRecordsOf(knex, chain)).find((r) => r.requirement === 'newsletter')?.pendingToken;
      const [doras, erins] = [await tokenOf(dora), await tokenOf(erin)];
      expect(doras).to.match(/^[0-9a-f]{64}$/);
      const pendingOf = async (subject: string) => (await consent.states(subject)).newsletter?.state;
      // Dora's token hash written into erin's record: erin's seal breaks, dora's link names dora, whose record is intact.
      await changeRecord(knex, erin, 'newsletter', { pendingToken: doras as string });
      await request(app).post(`/consent/confirm/${tokens[0]!}`).expect(200);
      expect(await pendingOf('dora')).to.equal('granted');
      expect(await consent.states('erin').catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      await changeRecord(knex, erin, 'newsletter', { pendingToken: erins as string });
      expect(await pendingOf('erin')).to.equal('pending');
      expect(calls).to.deep.equal({});
      expect(await consent.verify()).to.include({ ok: true });
    });

    it('names a subject link set to NULL, to a random value, or swapped between two subjects (subject_link)', async () => {
      const [alice, bob] = [await chainOf('alice'), await chainOf('bob')];
      await knex('consent_subjects').where({ chain: alice }).update({ pseudonym: null });
      // The reads cannot tell a link removed from a subject never seen: verify() can.
      expect((await consent.states('alice')).fraud?.state).to.equal('unset');
      expect(await kinds()).to.deep.equal(['subject_link']);
      await knex('consent_subjects').where({ chain: alice }).update({ pseudonym: bin('ab'.repeat(32)) });
      expect((await consent.verify()).problems).to.deep.equal([
        { eventId: (await consent.verify()).problems[0]?.eventId, kind: 'subject_link', chain: alice.toString('hex') },
      ]);
      // Swapped: the victim would hold another person's grants; each read of either refuses.
      await knex('consent_subjects').where({ chain: alice }).update({ pseudonym: bin(pseudonym('bob')) }).catch(() => undefined);
      await knex('consent_subjects').where({ chain: bob }).update({ pseudonym: bin('cd'.repeat(32)) });
      await knex('consent_subjects').where({ chain: alice }).update({ pseudonym: bin(pseudonym('bob')) });
      await knex('consent_subjects').where({ chain: bob }).update({ pseudonym: bin(pseudonym('alice')) });
      for (const subject of ['alice', 'bob']) {
        expect(await consent.states(subject).catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
        expect(await consent.record(subject, { ads: 'granted' }).catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      }
      expect(await kinds()).to.deep.equal(['subject_link', 'subject_link']);
    });

    it('names a subject row deleted while its events stay (subject_link): the objection it lifts is caught', async () => {
      const alice = await chainOf('alice');
      expect(await consent.isAllowed('alice', 'fraud')).to.equal(false);
      await knex('consent_subjects').where({ chain: alice }).delete();
      // The reads cannot tell a subject row removed from a subject never seen: verify() can.
      expect(await consent.isAllowed('alice', 'fraud')).to.equal(true);
      const { ok, problems } = await consent.verify();
      expect(ok).to.equal(false);
      expect(problems.map((p) => [p.kind, p.chain])).to.deep.equal([['subject_link', alice.toString('hex')]]);
      // Named by the newest event of the chain left without its subject.
      const newest = (await consent.engine.tracker.scanEvents({ chain: alice.toString('hex'), limit: 100 })).at(-1);
      expect(problems[0]?.eventId).to.equal(consent.engine.eventIds.encode(newest?.id as string));
    });

    it('names a stored subject id swapped between two subjects or changed (subject_link), which drops them from every audience', async () => {
      const [alice, bob, carol] = [await chainOf('alice'), await chainOf('bob'), await chainOf('carol')];
      const sealed = async (chain: Buffer): Promise<Buffer> => {
        const row: { sealed_subject: Buffer } = await knex('consent_subjects').where({ chain }).first('sealed_subject');
        return row.sealed_subject;
      };
      const [a, b] = [await sealed(alice), await sealed(bob)];
      expect(await consent.verify()).to.include({ ok: true });
      await knex('consent_subjects').where({ chain: alice }).update({ sealed_subject: b });
      await knex('consent_subjects').where({ chain: bob }).update({ sealed_subject: a });
      const flipped = Buffer.from(await sealed(carol));
      flipped.writeUInt8(flipped.readUInt8(0) ^ 1, 0);
      await knex('consent_subjects').where({ chain: carol }).update({ sealed_subject: flipped });
      const listed: string[] = [];
      const audience = consent.audience('analytics', { state: ['granted', 'denied'] });
      for await (const id of audience) listed.push(id);
      expect(listed).to.deep.equal([], 'none of them is listed');
      const { ok, problems } = await consent.verify();
      expect(ok).to.equal(false);
      expect(problems.map((p) => [p.kind, p.chain]).sort()).to.deep.equal([alice, bob, carol].map((c) => ['subject_link', c.toString('hex')]).sort());
      // One subject's own check names it too.
      expect((await consent.verify({ subjectId: 'carol' })).problems.map((p) => p.kind)).to.deep.equal(['subject_link']);
      // Put back, all verifies again.
      await knex('consent_subjects').where({ chain: alice }).update({ sealed_subject: a });
      await knex('consent_subjects').where({ chain: bob }).update({ sealed_subject: b });
      flipped.writeUInt8(flipped.readUInt8(0) ^ 1, 0);
      await knex('consent_subjects').where({ chain: carol }).update({ sealed_subject: flipped });
      expect(await consent.verify()).to.include({ ok: true });
    });

    it('names a swapped lawful basis and edited texts of answered versions (text_changed); receipts and stateAt refuse them', async () => {
      await knex('consent_requirements').where({ id: 'fraud' }).update({ lawful_basis: 'consent' });
      await knex('consent_requirements').where({ id: 'analytics' }).update({ lawful_basis: 'legitimate_interests' });
      expect(await consent.receipt('alice').catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      const { problems } = await consent.verify();
      expect(problems.map((p) => [p.kind, p.requirement, p.version])).to.have.deep.members([
        ['text_changed', 'analytics', 1], ['text_changed', 'fraud', 1],
      ]);
      expect(problems.map((p) => p.eventId)).to.have.members(['requirement:analytics:1', 'requirement:fraud:1']);
    });

    it('names an edited description of an old version and of the current one', async () => {
      await close();
      ({ consent, knex, close } = await testConsent(db, { cache: false, logger, now: () => new Date(now) }, [
        { ...REQUIREMENTS[0]!, version: 2, description: 'Pages you open, and for how long.' },
        ...REQUIREMENTS.slice(1),
      ]));
      await consent.record('alice', { analytics: 'granted' });
      expect(await consent.verify()).to.include({ ok: true });
      await knex('consent_requirements').where({ id: 'analytics', version: 1 }).update({ description: 'Nothing at all.' });
      expect((await consent.verify()).problems.map((p) => p.eventId)).to.deep.equal(['requirement:analytics:1']);
      expect(await consent.stateAt('alice', 'analytics', START).catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      await knex('consent_requirements').where({ id: 'analytics', version: 2 }).update({ description: 'Nothing at all.' });
      expect((await consent.verify()).problems.map((p) => p.eventId)).to.deep.equal(['requirement:analytics:1', 'requirement:analytics:2']);
      expect(await consent.receipt('alice').catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
    });

    it('refuses stateAt() and receipts that need a registered version no longer stored, answered or not', async () => {
      await close();
      now = START + 2 * DAY;
      ({ consent, knex, close } = await testConsent(db, { cache: false, logger, now: () => new Date(now) }, [
        { ...REQUIREMENTS[0]!, version: 2, description: 'Pages you open, and for how long.' },
        ...REQUIREMENTS.slice(1),
      ]));
      now = START + 3 * DAY;
      // Bob granted version 1; version 2, stored at the restart, nobody answered yet: since then his grant is outdated.
      expect(await consent.stateAt('bob', 'analytics', START + 2 * DAY + 1)).to.include({ state: 'outdated', allowed: false });
      expect((await consent.receipt('bob')).decisions.find((d) => d.requirement === 'analytics')).to.include({ version: 1, state: 'outdated' });
      await consent.record('carol', { analytics: 'granted' });
      await knex('consent_requirements').where({ id: 'analytics', version: 2 }).delete();
      expect(await consent.stateAt('bob', 'analytics', START + 2 * DAY + 1).catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      expect(logger.errors.map((e) => (e as { message: string }).message).join('\n')).to.contain('analytics v2) are no longer stored');
      // Carol answered version 2: her receipt would cite no text or basis for it. Bob's cites version 1, still stored.
      expect(await consent.receipt('carol').catch((e: unknown) => e)).to.be.instanceOf(ConsentStoreError);
      expect((await consent.receipt('bob')).decisions.find((d) => d.requirement === 'analytics')).to.include({ version: 1, state: 'outdated' });
      expect((await consent.verify()).problems.map((p) => [p.kind, p.eventId])).to.deep.equal([['text_changed', 'requirement:analytics:2']]);
    });

    it('names a deleted version that events were decided under (text_changed): nothing shows which text those people saw', async () => {
      expect(await consent.verify()).to.include({ ok: true });
      const decided = (await knex('consent_events').distinct('requirement', 'version').whereNot({ requirement: '*' }).whereNot({ source: 'import' })) as Array<{ requirement: string; version: number }>;
      expect(decided.length).to.be.above(1);
      await knex('consent_requirements').where({ id: 'analytics', version: 1 }).delete();
      const one = await consent.verify();
      expect(one.ok).to.equal(false);
      expect(one.problems.map((p) => [p.kind, p.eventId, p.requirement, p.version])).to.deep.equal([['text_changed', 'requirement:analytics:1', 'analytics', 1]]);
      await knex('consent_requirements').delete();
      const all = await consent.verify();
      expect(all.problems.map((p) => p.eventId)).to.have.members(decided.map((d) => `requirement:${d.requirement}:${String(d.version)}`));
      expect(all.problems.every((p) => p.kind === 'text_changed')).to.equal(true);
      // A restart does not store the registered texts in their place, which would hide it.
      const again = knexFactory(db.config);
      const instance = createConsent({ knex: again, secret: TEST_SECRET, logger, cache: false });
      instance.register(REQUIREMENTS);
      const restarted = await instance.ready().catch((e: unknown) => e);
      await instance.close();
      await again.destroy();
      expect(restarted).to.be.instanceOf(ConsentConfigError).and.include({ code: 'text_changed' });
      expect((restarted as Error).message).to.match(/^requirement "\w+" version 1 has decisions but no stored text \(its row was deleted from the database\): restore the requirements table from a backup/);
      expect(await knex('consent_requirements').select('id')).to.deep.equal([]);
    });

    describe('every column of every sealed table, and every field of a record in a subject row: changed, set to NULL, or swapped between two', () => {
      const TABLES: Record<string, { key: string[]; allowed: string[] }> = {
        consent_subjects: { key: ['chain'], allowed: ['subject_link', 'truncated', 'state_mismatch', 'rollback', 'inserted', 'modified', 'deleted'] },
        consent_requirements: { key: ['id', 'version'], allowed: ['text_changed'] },
      };
      // The records a subject row holds (its `records` column, which the library alone decodes),
      // changed field by field as the rows of the former table of records were column by column:
      // two records of one subject, and of one requirement for two subjects. Their `chain` is the
      // subject row that holds them: changed, a record moves to another subject's row; set to
      // NULL, it is removed (no row holds it); swapped, the two trade rows.
      const RECORD_PAIRS: Array<[[string, string], [string, string]]> = [
        [['alice', 'ads'], ['alice', 'analytics']],
        [['alice', 'analytics'], ['bob', 'analytics']],
      ];
      const RECORD_ALLOWED = ['state_mismatch', 'subject_link', 'truncated'];
      type Placed = CurrentRecord & { chain: string };

      /** Another value of the same type: bytes flipped, numbers moved, text and flags changed. */
      const other = (value: unknown): unknown => {
        if (Buffer.isBuffer(value)) return value.length === 0 ? Buffer.from([1]) : Buffer.from(value.map((b) => b ^ 0x5a));
        if (typeof value === 'number') return value + 1;
        if (typeof value === 'boolean') return !value;
        if (typeof value === 'string') return /^\d+$/.test(value) ? String(Number(value) + 1) : `${value}x`;
        return 1;
      };
      /** `record` with `field` set to `value`, whatever its type: a value the database would hold, not one the library wrote. */
      const withField = (record: Placed, field: keyof Placed, value: unknown): Placed => ({ ...record, [field]: value });
      /** Another value of a record's field: as `other`, with the decision and the token kept in their domains. */
      const otherField = (field: string, value: unknown): unknown => {
        if (field === 'decision') return value === 'granted' ? 'denied' : 'granted';
        if (field === 'pendingToken') return value === null ? 'ab'.repeat(32) : (other(Buffer.from(value as string, 'hex')) as Buffer).toString('hex');
        return other(value);
      };

      it('is caught by verify() with a kind of its table, or changes nothing the library reports', async function () {
        this.timeout(240_000);
        const subjects = ['alice', 'bob', 'carol'];
        const baseline = await Promise.all(subjects.map((s) => observed(consent, s)));
        let caught = 0;
        let unchanged = 0;
        let recordsCaught = 0;
        /** After one change: either named by verify() with an allowed kind, or nothing the library reports differs. */
        const check = async (label: string, allowed: string[]): Promise<boolean> => {
          const result = await consent.verify();
          const now = await Promise.all(subjects.map((s) => observed(consent, s)));
          if (result.ok) {
            expect(now, `${label}: verify() passed, so nothing may differ`).to.deep.equal(baseline);
            unchanged += 1;
            return false;
          }
          expect(result.problems.map((p) => p.kind).filter((k) => !allowed.includes(k)), label).to.deep.equal([]);
          caught += 1;
          return true;
        };
        for (const [table, { key, allowed }] of Object.entries(TABLES)) {
          const original = (await knex(table).select()) as Array<Record<string, unknown>>;
          const [a, b] = [original[0] as Record<string, unknown>, original[1] as Record<string, unknown>];
          const where = (row: Record<string, unknown>) => Object.fromEntries(key.map((k) => [k, row[k]]));
          for (const column of Object.keys(a)) {
            for (const change of ['changed', 'null', 'swapped'] as const) {
              try {
                if (change === 'changed') await knex(table).where(where(a)).update({ [column]: other(a[column]) });
                else if (change === 'null') await knex(table).where(where(a)).update({ [column]: null });
                else {
                  await knex.transaction(async (trx) => {
                    await trx(table).where(where(b)).delete();
                    await trx(table).where(where(a)).update({ [column]: b[column] });
                    await trx(table).insert({ ...b, [column]: a[column] });
                  });
                }
              } catch {
                continue; // the database refused the change (a constraint): nothing to check
              }
              await check(`${table}.${column} ${change}`, allowed);
              await knex.transaction(async (trx) => {
                await trx(table).delete();
                for (const row of original) await trx(table).insert(row);
              });
            }
          }
        }

        const rows: Array<{ chain: Buffer; records: Buffer | null; lapse_at: unknown }> = await knex('consent_subjects').select('chain', 'records', 'lapse_at');
        const chains = Object.fromEntries(await Promise.all(subjects.map(async (s) => [s, (await chainOf(s)).toString('hex')] as const)));
        const stored: Placed[] = await allStoredRecords(knex);
        expect(stored).to.have.length(6);
        /** Every subject row written with the records placed in it, well-formed: all or none. */
        const place = (records: Placed[]) => knex.transaction(async (trx) => {
          for (const row of rows) {
            const held = records.filter((r) => r.chain === row.chain.toString('hex')).map(({ chain: _chain, ...record }) => record);
            await storeRecords(trx, row.chain, held);
          }
        });
        for (const pair of RECORD_PAIRS) {
          const [x, y] = pair.map(([subject, requirement]) => {
            const index = stored.findIndex((r) => r.chain === chains[subject] && r.requirement === requirement);
            expect(index, `${subject}'s record of ${requirement}`).to.be.at.least(0);
            return index;
          }) as [number, number];
          const a = stored[x] as Placed;
          const b = stored[y] as Placed;
          for (const field of Object.keys(a) as Array<keyof Placed>) {
            for (const change of ['changed', 'null', 'swapped'] as const) {
              let records = [...stored];
              if (field === 'chain' && change === 'changed') records[x] = { ...a, chain: chains.carol! };
              else if (field === 'chain' && change === 'null') records = records.filter((_, i) => i !== x);
              else if (change === 'changed') records[x] = withField(a, field, otherField(field, a[field]));
              else if (change === 'null') records[x] = withField(a, field, null);
              else [records[x], records[y]] = [withField(a, field, b[field]), withField(b, field, a[field])];
              try {
                await place(records);
              } catch {
                continue; // records that cannot be stored (two of one requirement, a value out of its type): nothing to check
              }
              const label = `record ${pair.map((p) => p.join(':')).join('/')}.${field} ${change}`;
              if (await check(label, RECORD_ALLOWED)) recordsCaught += 1;
              for (const row of rows) await knex('consent_subjects').where({ chain: row.chain }).update({ records: row.records, lapse_at: row.lapse_at });
            }
          }
        }
        expect(await consent.verify()).to.include({ ok: true });
        expect(caught).to.be.greaterThan(40);
        expect(caught + unchanged).to.be.greaterThan(50);
        expect(recordsCaught, 'changed records caught').to.be.greaterThan(30);
      });
    });
  });
}
