import { expect } from 'chai';
import knexFactory from 'knex';
import { createConsent } from '../../lib/index';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

describe('pseudonyms (SQLite)', () => {
  it('never stores the raw subject id in any column of any table', async () => {
    const file = tempSqliteFile();
    const knex = knexFactory(sqliteKnexConfig(file.filename));
    const subjects = ['alice.liddell@example.com', 'user-8842-unique-marker', '9007199254740991'];
    try {
      const consent = createConsent({ knex, secret: 'p'.repeat(32) });
      consent.register([
        { id: 'news', title: 'News', description: 'Mail', expiresAfterDays: 5 },
        { id: 'optin', title: 'Confirmed', description: 'Double opt-in', doubleOptIn: true },
      ]);
      await consent.ready();
      for (const subject of subjects) {
        await consent.record(subject, { news: 'granted', optin: 'granted' }, { note: 'signup', data: { plan: 'pro' } });
        await consent.record(subject, { news: 'denied' });
      }
      await consent.record(Number(subjects[2]), { news: 'granted' });
      expect((await consent.states(subjects[0]!)).news?.state, 'the subject is still found').to.equal('denied');

      const tables: Array<{ name: string }> = await knex('sqlite_master').where({ type: 'table' }).select('name');
      let cells = 0;
      for (const { name } of tables) {
        const rows: Array<Record<string, unknown>> = await knex(name).select('*');
        for (const row of rows) {
          for (const [column, value] of Object.entries(row)) {
            cells += 1;
            const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
            for (const subject of subjects) {
              expect(text.includes(subject), `${name}.${column} holds "${subject}"`).to.equal(false);
            }
          }
        }
      }
      expect(cells).to.be.greaterThan(100);
      const pseudonyms: Array<{ pseudonym: Buffer }> = await knex('consent_subjects').select('pseudonym');
      expect(pseudonyms).to.have.length(3);
      // HMAC-SHA-256 pseudonyms, stored as their 32 bytes.
      for (const { pseudonym } of pseudonyms) expect(pseudonym).to.be.instanceOf(Buffer).with.length(32);
      await consent.close();
    } finally {
      await knex.destroy();
      file.remove();
    }
  });
});
