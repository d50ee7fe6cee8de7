import { expect } from 'chai';
import { defaultKnex } from '../../lib/knex/default-knex';
import { tempSqliteFile } from '../helpers/databases';

describe('the embedded default SQLite connection', () => {
  it('is set up for one writer, waiting readers, large histories, and erasures that leave no bytes behind', async () => {
    const file = tempSqliteFile();
    const knex = defaultKnex(file.filename);
    try {
      const pragma = async (name: string): Promise<unknown> => {
        const rows: Array<Record<string, unknown>> = await knex.raw(`PRAGMA ${name}`);
        return Object.values(rows[0] ?? {})[0];
      };
      expect(await pragma('journal_mode')).to.equal('wal');
      expect(await pragma('busy_timeout')).to.equal(5000);
      expect(await pragma('cache_size')).to.equal(-65536);
      expect(await pragma('mmap_size')).to.equal(1073741824);
      expect(await pragma('secure_delete')).to.equal(1);
    } finally {
      await knex.destroy();
      file.cleanup();
    }
  });
});
