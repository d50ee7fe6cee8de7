import { expect } from 'chai';
import knexFactory from 'knex';
import { createConsent } from '../../lib/index';
import { memoryLogger, REQUIREMENTS, TEST_SECRET } from '../helpers/consent-setup';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

// Longer than the change watch's poll interval (100 ms), several times over.
const SLOW_CLOSE_MS = 600;

describe('a Knex instance destroyed before consent.close() (SQLite file)', () => {
  it('lets close() end at once, though the watch polled while the pool was being destroyed', async () => {
    const file = tempSqliteFile();
    const knex = knexFactory({
      ...sqliteKnexConfig(file.filename),
      // Far beyond the test's own timeout: a poll left waiting for a connection would hang close().
      acquireConnectionTimeout: 600_000,
      pool: {
        min: 1,
        max: 1,
        // Closing the file takes a while (as under load), so the watch's timer fires meanwhile.
        afterCreate: (connection: { close: (cb: (error: Error | null) => void) => void }, done: (error: Error | null, c: unknown) => void) => {
          const close = connection.close.bind(connection);
          connection.close = (cb) => { setTimeout(() => { close(cb); }, SLOW_CLOSE_MS); };
          done(null, connection);
        },
      },
    });
    const consent = createConsent({ knex, secret: TEST_SECRET, subject: () => 'ann', logger: memoryLogger() });
    consent.register(REQUIREMENTS);
    try {
      await consent.ready();
      await consent.record('ann', { analytics: 'granted' });
      expect(await consent.isAllowed('ann', 'analytics')).to.equal(true);
      await knex.destroy();
      await consent.close();
      // The store is gone: nothing reads as consent.
      expect(await consent.isAllowed('ann', 'analytics').then(() => 'answered', (error: unknown) => (error as { code?: string }).code)).to.not.equal('answered');
    } finally {
      file.remove();
    }
  });
});
