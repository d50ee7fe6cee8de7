import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { memoryLogger } from '../helpers/consent-setup';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

/*
 * SQLite lets a column hold a value of any type. Someone with write access to the file (and
 * not the secret) can store a digest, key or record set as text holding the same bytes, or an
 * instant as text that reads as a number in JavaScript. The library's writes read rows through
 * the driver, which gives such a value as a string: they refuse the subject, and the guard's
 * lookups by pseudonym no longer find it. verify() must say so.
 */

const SECRET = 'f'.repeat(32);
const DAY = 86_400_000;

for (const client of ['sqlite3', 'better-sqlite3'] as const) {
  describe(`values of another SQLite type in the store's byte and instant columns (${client})`, () => {
    let file: ReturnType<typeof tempSqliteFile>;
    let knex: Knex;
    let consent: Consent;
    let now: number;

    beforeEach(async () => {
      file = tempSqliteFile();
      knex = knexFactory({ ...sqliteKnexConfig(file.filename), client });
      now = Date.parse('2026-03-01T00:00:00.000Z');
      consent = createConsent({ knex, secret: SECRET, cache: false, logger: memoryLogger(), now: () => new Date(now) });
      consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open', expiresAfterDays: 10 });
      consent.register({ id: 'fraud', title: 'Fraud checks', description: 'Checks on payments', lawfulBasis: 'legitimate_interests' });
      await consent.ready();
      await consent.record('di', { analytics: 'granted', fraud: 'denied' });
      await consent.record('ed', { analytics: 'granted' });
      expect(await consent.verify()).to.deep.include({ ok: true });
    });
    afterEach(async () => {
      await consent.close();
      await knex.destroy();
      file.remove();
    });

    const pseudonymOf = (subject: string): Buffer => Buffer.from(consent.engine.pseudonym(subject), 'hex');
    const chainOf = async (subject: string): Promise<string> => {
      const row: { chain: Buffer } = await knex('consent_subjects').where({ pseudonym: pseudonymOf(subject) }).first('chain');
      return row.chain.toString('hex');
    };
    const subjectColumnAsText = (subject: string, column: string) =>
      knex.raw(`update consent_subjects set ${column} = cast(${column} as text) where pseudonym = ?`, [pseudonymOf(subject)]);

    it('reports records stored as text, which a withdrawal would refuse', async () => {
      const chain = await chainOf('di');
      await subjectColumnAsText('di', 'records');
      const report = await consent.verify();
      expect(report.ok).to.equal(false);
      expect(report.problems.map((p) => [p.kind, p.chain])).to.deep.include(['state_mismatch', chain]);
      expect(report.problems.every((p) => p.chain === chain)).to.equal(true);
    });

    it('reports a head seal stored as text', async () => {
      const chain = await chainOf('di');
      await subjectColumnAsText('di', 'head_mac');
      const report = await consent.verify();
      expect(report.ok).to.equal(false);
      expect(report.problems.map((p) => p.chain)).to.include(chain);
    });

    it('reports a pseudonym stored as text, which hides the subject (and its objection) from every lookup', async () => {
      const chain = await chainOf('di');
      await subjectColumnAsText('di', 'pseudonym');
      expect((await consent.states('di')).fraud?.state).to.equal('unset');
      const report = await consent.verify();
      expect(report.ok).to.equal(false);
      expect(report.problems.map((p) => [p.kind, p.chain])).to.deep.include(['subject_link', chain]);
    });

    it("reports an event's hash stored as text", async () => {
      const chain = await chainOf('ed');
      const event: { id: number } = await knex('consent_events').where({ chain: Buffer.from(chain, 'hex') }).first('id');
      await knex.raw('update consent_events set hash = cast(hash as text) where id = ?', [event.id]);
      const report = await consent.verify();
      expect(report.ok).to.equal(false);
      expect(report.problems.map((p) => p.kind)).to.include('modified');
    });

    it('reports a lapse_at stored as text that the sweep never finds due', async () => {
      const chain = await chainOf('di');
      const row: { lapse_at: number } = await knex('consent_subjects').where({ pseudonym: pseudonymOf('di') }).first('lapse_at');
      await knex.raw('update consent_subjects set lapse_at = ? where pseudonym = ?', [`0x${row.lapse_at.toString(16)}`, pseudonymOf('di')]);
      now += 11 * DAY;
      // Only ed's grant is found due: di's lapse_at is text, which SQLite orders after every number.
      expect(await consent.sweep()).to.deep.include({ recorded: 1 });
      const report = await consent.verify();
      expect(report.ok).to.equal(false);
      expect(report.problems.map((p) => [p.kind, p.chain])).to.deep.include(['state_mismatch', chain]);
    });
  });
}
