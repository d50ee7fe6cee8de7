import { expect } from 'chai';
import knexFactory from 'knex';
import { ConsentError, createConsent, KnexTracker, type Consent } from '../../lib/index';
import { BACKENDS, memoryLogger, type TestDatabase } from '../helpers/consent-setup';

const RIGHT = 'the-right-secret-the-right-secret-0123';
const WRONG = 'a-wrong-secret-a-wrong-secret-a-012345';
const NEWS = { id: 'news', title: 'Newsletter', description: 'A monthly e-mail.' };
const ADS = { id: 'ads', title: 'Personalised ads', description: 'Ads based on what you read.' };

for (const backend of BACKENDS) {
  backend.describe(`starting with another secret than the store's (${backend.name})`, () => {
    let db: TestDatabase;
    const opened: Array<{ consent: Consent; close: () => Promise<void> }> = [];

    async function open(secret: string | undefined, logger = memoryLogger()): Promise<Consent> {
      const knex = knexFactory(db.config);
      const consent = createConsent({ knex, logger, ...(secret === undefined ? {} : { secret }) });
      consent.register([NEWS, ADS]);
      opened.push({ consent, close: async () => { await consent.close(); await knex.destroy(); } });
      return consent;
    }

    beforeEach(async () => {
      db = await backend.open();
    });
    afterEach(async () => {
      for (const { close } of opened.splice(0)) await close();
      await db.cleanup();
    });

    it('refuses to start, names the cause in the error and the log, and writes nothing', async () => {
      const first = await open(RIGHT);
      await first.ready();
      await first.record('ann', { news: 'granted' });
      const knex = knexFactory(db.config);
      const counts = async (): Promise<number[]> => {
        const tables = ['consent_events', 'consent_requirements', 'consent_subjects'];
        return Promise.all(tables.map(async (table) => Number((await knex(table).count({ n: '*' }))[0]?.n)));
      };
      try {
        const before = await counts();
        const logger = memoryLogger();
        const wrong = await open(WRONG, logger);
        let failure: unknown;
        try {
          await wrong.ready();
        } catch (error) {
          failure = error;
        }
        expect(failure).to.be.instanceOf(ConsentError).and.to.include({ code: 'invalid_option' });
        expect((failure as Error).message).to.contain('the secret is not the one this database was written with').and.not.to.contain('development secret');
        expect(logger.errors.map((e) => (e as { message: string }).message).join('\n')).to.contain('the secret is not the one');
        expect(await counts()).to.deep.equal(before);
      } finally {
        await knex.destroy();
      }
      const right = await open(RIGHT);
      await right.ready();
      expect(await right.isAllowed('ann', 'news')).to.equal(true);
      expect((await right.verify()).ok).to.equal(true);
    });

    it('refuses to start without a secret on a store written with one, and stores no secret of its own', async () => {
      const first = await open(RIGHT);
      await first.ready();
      await first.record('ann', { news: 'granted' });
      const none = await open(undefined);
      const failure = await none.ready().then(() => null, (error: unknown) => error);
      expect(failure).to.be.instanceOf(ConsentError).and.to.include({ code: 'invalid_option' });
      expect((failure as Error).message).to.contain('no "secret" is set, and the database was written with one').and.to.contain('CONSENT_SECRET');
      const knex = knexFactory(db.config);
      try {
        expect(await knex('consent_meta').where({ key: 'secret' }).select()).to.deep.equal([]);
      } finally {
        await knex.destroy();
      }
      // Still refused the same way, not judged against a secret stored by the refused start.
      const again = await open(undefined);
      expect(await again.ready().then(() => null, (error: unknown) => (error as Error).message)).to.contain('no "secret" is set');
      // A store an earlier release wrote has no check value: its sealed versions tell the same.
      const admin = knexFactory(db.config);
      try {
        await admin('consent_meta').where({ key: 'secret_check' }).delete();
        const older = await open(undefined);
        expect(await older.ready().then(() => null, (error: unknown) => (error as Error).message)).to.contain('no "secret" is set');
        expect(await admin('consent_meta').whereIn('key', ['secret', 'secret_check']).select()).to.deep.equal([]);
      } finally {
        await admin.destroy();
      }
    });

    it('says what to do when the store was written with the generated development secret', async () => {
      const first = await open(undefined);
      await first.ready();
      await first.record('ann', { news: 'granted' });
      const later = await open(RIGHT);
      let failure: unknown;
      await later.ready().catch((error: unknown) => { failure = error; });
      expect(failure).to.be.instanceOf(ConsentError).and.to.include({ code: 'invalid_option' });
      expect((failure as Error).message).to.contain('written with the development secret generated while no "secret" was set')
        .and.to.contain('Remove the "secret" option').and.to.contain('with a new database');
      const again = await open(undefined);
      await again.ready();
      expect(await again.isAllowed('ann', 'news')).to.equal(true);
    });

    it('starts when one stored version of several was changed, and verify() names it', async () => {
      const first = await open(RIGHT);
      await first.ready();
      await first.record('ann', { news: 'granted', ads: 'denied' });
      const knex = knexFactory(db.config);
      try {
        await knex('consent_requirements').where({ id: 'ads' }).update({ description: 'Something else.' });
      } finally {
        await knex.destroy();
      }
      const reopened = await open(RIGHT);
      await reopened.ready();
      const report = await reopened.verify();
      expect(report.ok).to.equal(false);
      expect(report.problems.map((p) => p.kind)).to.include('text_changed');
    });

    it('starts when every stored version was changed, once the store holds its check value, and verify() names them', async () => {
      const first = await open(RIGHT);
      await first.ready();
      await first.record('ann', { news: 'granted', ads: 'denied' });
      const knex = knexFactory(db.config);
      try {
        await knex('consent_requirements').update({ description: 'Something else.' });
      } finally {
        await knex.destroy();
      }
      const reopened = await open(RIGHT);
      await reopened.ready();
      const report = await reopened.verify();
      expect(report.problems.filter((p) => p.kind === 'text_changed')).to.have.length(2);
    });

    it('judges a store without a check value (an earlier release wrote it) by its versions\' seals, then stores one', async () => {
      const first = await open(RIGHT);
      await first.ready();
      await first.record('ann', { news: 'granted' });
      const knex = knexFactory(db.config);
      try {
        await knex('consent_meta').where({ key: 'secret_check' }).delete();
        let refused: unknown;
        await (await open(WRONG)).ready().catch((error: unknown) => { refused = error; });
        expect(refused).to.include({ code: 'invalid_option' });
        expect((refused as Error).message).to.contain('none of its 2 stored requirement versions checks with it');
        expect(await knex('consent_meta').where({ key: 'secret_check' }).first()).to.equal(undefined, 'no check value stored for the wrong secret');
        await (await open(RIGHT)).ready();
        expect(await knex('consent_meta').where({ key: 'secret_check' }).first()).not.to.equal(undefined);
      } finally {
        await knex.destroy();
      }
    });

    it('starts one of two processes given different secrets on a new store at once, and refuses the other', async () => {
      const outcomes = await Promise.allSettled([(await open(RIGHT)).ready(), (await open(WRONG)).ready()]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(1);
      const [failed] = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(failed?.reason).to.include({ code: 'invalid_option' });
    });

    it('starts without a secret beside a process that stored its generated secret and check value between its two reads', async () => {
      const knex = knexFactory(db.config);
      const other = await open(undefined);
      // The first process finds no generated secret, then (before it reads the check value) the
      // other one starts in full: it stores its secret, its check value and sealed versions.
      let raced: Promise<void> | null = null;
      const tracker = new KnexTracker(knex);
      const racing = new Proxy(tracker, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (property === 'readSetting') {
            return async (name: string) => {
              if (name === 'secret_check') await (raced ??= other.ready());
              return target.readSetting(name);
            };
          }
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const first = createConsent({ tracker: racing, logger: memoryLogger(), cache: false });
      first.register([NEWS, ADS]);
      opened.push({ consent: first, close: async () => { await first.close(); await knex.destroy(); } });
      await first.ready();
      expect(raced).to.not.equal(null);
      await first.record('ann', { news: 'granted' });
      expect(await other.isAllowed('ann', 'news')).to.equal(true);
    });

    it('starts with the secret it generated and stored itself (outside production)', async () => {
      const first = await open(undefined);
      await first.ready();
      await first.record('ann', { news: 'granted' });
      const second = await open(undefined);
      await second.ready();
      expect(await second.isAllowed('ann', 'news')).to.equal(true);
    });
  });
}
