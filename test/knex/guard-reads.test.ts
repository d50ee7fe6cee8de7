import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { ConsentStoreError, createConsent, type Consent } from '../../lib/index';
import { statementsDuring } from '../helpers/count-statements';
import { memoryLogger } from '../helpers/consent-setup';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { changeRecord, storedRecordsOf, storeRecords } from '../helpers/records';

/*
 * SQLite: the reads of subjects that miss the cache come back as one JSON text per batch. The
 * states they give must be the ones the rows hold, a row JSON cannot carry (a BLOB written
 * behind the library's back) must not cost the other subjects of its batch their answer, and
 * records written behind the library's back are refused, never read as other records.
 */

const SECRET = 'g'.repeat(32);

for (const client of ['sqlite3', 'better-sqlite3'] as const) {
  describe(`reads of subjects that miss the cache, on SQLite (${client})`, () => {
    let file: ReturnType<typeof tempSqliteFile>;
    let knex: Knex;
    let consent: Consent;
    let logger: ReturnType<typeof memoryLogger>;
    let now: number;

    beforeEach(async () => {
      file = tempSqliteFile();
      knex = knexFactory({ ...sqliteKnexConfig(file.filename), client });
      logger = memoryLogger();
      now = Date.parse('2026-01-01T00:00:00.000Z');
      consent = createConsent({ knex, secret: SECRET, cache: false, logger, now: () => new Date(now) });
      consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open', expiresAfterDays: 30 });
      consent.register({ id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail', doubleOptIn: true });
      consent.register({ id: 'ads', title: 'Ads', description: 'Ads on what you read', gpc: true });
      await consent.ready();
    });
    afterEach(async () => {
      await consent.close();
      await knex.destroy();
      file.remove();
    });

    it('read many subjects in one statement, with every field of their states as recorded', async () => {
      await consent.record('granted-all', { analytics: 'granted', ads: 'granted' });
      await consent.record('pending', { newsletter: 'granted' });
      await consent.record('denied', { analytics: 'denied' });
      await consent.record('erased', { analytics: 'granted' });
      await consent.erase('erased');
      await consent.import([{ subjectId: 'imported', requirement: 'analytics', decision: 'granted', at: now - 40 * 86_400_000 }]);
      expect((await consent.sweep()).recorded).to.equal(1);
      const ids = ['granted-all', 'pending', 'denied', 'erased', 'never-seen', 'imported'];
      // Each read alone (a batch of one), then all at once (one batch).
      const alone: unknown[] = [];
      for (const id of ids) alone.push(await consent.states(id));
      type States = Awaited<ReturnType<Consent['states']>>;
      let together: States[] = [];
      const sent = await statementsDuring(knex, /consent_subjects/, async () => {
        together = await Promise.all(ids.map((id) => consent.states(id)));
      });
      // The first read starts alone on the asynchronous driver; the others wait and go as one.
      expect(sent.length, sent.join('\n')).to.be.within(1, 2);
      for (const sql of sent) expect(sql).to.match(/^select json_group_array/);
      expect(together).to.deep.equal(alone);
      const [all, pending, denied, erased, never, imported] = together as [States, States, States, States, States, States];
      expect(all.analytics).to.deep.include({ state: 'granted', version: 1, expiresAt: '2026-01-31T00:00:00.000Z' });
      expect(all.ads?.state).to.equal('granted');
      expect(pending.newsletter?.state).to.equal('pending');
      expect(denied.analytics?.state).to.equal('denied');
      expect(imported.analytics?.state).to.equal('expired');
      for (const states of [erased, never]) expect(Object.values(states).map((s) => s.state)).to.deep.equal(['unset', 'unset', 'unset']);
      now += 31 * 86_400_000;
      expect((await consent.states('granted-all')).analytics?.state).to.equal('expired');
      expect(logger.errors).to.deep.equal([]);
    });

    const chainOf = async (subject: string): Promise<Buffer> => {
      const pseudonym = Buffer.from(consent.engine.pseudonym(subject), 'hex');
      const row: { chain: Buffer } = await knex('consent_subjects').where({ pseudonym }).first('chain');
      return row.chain;
    };

    it('answer the other subjects of a batch when one row holds a value JSON cannot carry, and refuse that one', async () => {
      await consent.record('alice', { analytics: 'granted' });
      await consent.record('bob', { analytics: 'granted' });
      await knex('consent_subjects').where({ chain: await chainOf('alice') }).update({ head_id: Buffer.from('deadbeef', 'hex') });
      const [alice, bob] = await Promise.allSettled([consent.isAllowed('alice', 'analytics'), consent.isAllowed('bob', 'analytics')]);
      expect(alice.status).to.equal('rejected');
      expect((alice as PromiseRejectedResult).reason).to.be.instanceOf(ConsentStoreError).with.property('code', 'store_unavailable');
      expect(bob).to.deep.equal({ status: 'fulfilled', value: true });
      expect(logger.errors).to.not.deep.equal([]);
    });

    /**
     * Carol's states read beside dave's after `tamper`: carol's refused (`store_unavailable`),
     * or, with `orUnchanged`, as they were before; dave's answered.
     */
    async function readBeside(tamper: (chain: Buffer) => Promise<unknown>, orUnchanged = false): Promise<void> {
      await consent.record('carol', { analytics: 'denied', ads: 'granted' });
      await consent.record('dave', { analytics: 'granted' });
      const before = await consent.states('carol');
      await tamper(await chainOf('carol'));
      const [carol, dave] = await Promise.allSettled([consent.states('carol'), consent.isAllowed('dave', 'analytics')]);
      if (carol.status === 'fulfilled' && orUnchanged) expect(carol.value).to.deep.equal(before);
      else {
        expect(carol.status, JSON.stringify(carol)).to.equal('rejected');
        expect((carol as PromiseRejectedResult).reason).to.be.instanceOf(ConsentStoreError).with.property('code', 'store_unavailable');
      }
      expect(dave).to.deep.equal({ status: 'fulfilled', value: true });
    }

    // A subject's records are one value of its row: bytes the library wrote, and only those.
    const unreadable: Array<[string, (chain: Buffer) => Promise<unknown>]> = [
      ['bytes that are not records', (chain) => knex('consent_subjects').where({ chain }).update({ records: Buffer.from('ff', 'hex') })],
      ['records cut short', (chain) => knex.raw('update consent_subjects set records = substr(records, 1, length(records) - 1) where chain = ?', [chain])],
      ['text', (chain) => knex('consent_subjects').where({ chain }).update({ records: 'granted' })],
      ['a number', (chain) => knex('consent_subjects').where({ chain }).update({ records: 1 })],
      ['null (no records)', (chain) => knex('consent_subjects').where({ chain }).update({ records: null })],
      ['a record changed', (chain) => changeRecord(knex, chain, 'analytics', { decision: 'granted' })],
      ['a record removed', (chain) => changeRecord(knex, chain, 'ads', null)],
      ['a record added', (chain) => changeRecord(knex, chain, 'newsletter', { decision: 'granted', version: 1, decidedAt: now })],
      ['another subject\'s records', async (chain) => {
        const daves = (await knex('consent_subjects').where({ chain: await chainOf('dave') }).first<{ records: Buffer }>('records')).records;
        await knex('consent_subjects').where({ chain }).update({ records: daves });
      }],
    ];
    for (const [name, tamper] of unreadable) {
      it(`refuse a subject whose records are ${name}`, async () => {
        await readBeside(tamper);
      });
    }

    // Read as the sealed records, or refused: never as other records.
    const same: Array<[string, (chain: Buffer) => Promise<unknown>]> = [
      ['the same records written again', async (chain) => storeRecords(knex, chain, await storedRecordsOf(knex, chain))],
      ['the same bytes as text', (chain) => knex.raw('update consent_subjects set records = cast(records as text) where chain = ?', [chain])],
      ['a lapse_at moved (the sweep\'s index only)', (chain) => knex('consent_subjects').where({ chain }).update({ lapse_at: 1 })],
    ];
    for (const [name, tamper] of same) {
      it(`read a subject whose records are ${name} unchanged, or refuse it`, async () => {
        await readBeside(tamper, true);
      });
    }

    it('answer a failure of the store once, without reading the batch a second way', async () => {
      await consent.record('erin', { analytics: 'granted' });
      await knex.raw('alter table consent_subjects rename to consent_subjects_gone');
      let error: unknown;
      const sent = await statementsDuring(knex, /consent_subjects/, async () => {
        await consent.states('erin').catch((e: unknown) => { error = e; });
      });
      expect(error).to.be.instanceOf(ConsentStoreError).with.property('code', 'store_unavailable');
      expect(sent, sent.join('\n')).to.have.length(1);
      await knex.raw('alter table consent_subjects_gone rename to consent_subjects');
    });
  });
}
