import { copyFileSync, renameSync, rmSync } from 'node:fs';
import { expect } from 'chai';
import { ConsentStoreError, createConsent, KnexTracker, type Consent } from '../../lib/index';
import { defaultKnex } from '../../lib/knex/default-knex';
import { tempSqliteFile } from '../helpers/databases';

const SECRET = 'sqlite-file-gone-secret-0123456789abcdef01';

/** A consent instance on the embedded default (WAL), and what it opened. */
async function open(filename: string, notify: boolean): Promise<Consent> {
  const consent = createConsent({ tracker: new KnexTracker(defaultKnex(filename), { ownsKnex: true, notify }), secret: SECRET, logger: { warn() {}, error() {} } });
  consent.register({ id: 'news', title: 'News', description: 'A monthly e-mail.' });
  await consent.ready();
  return consent;
}

describe('an SQLite file removed or replaced under a running process', () => {
  for (const notify of [true, false]) {
    it(`refuses writes instead of acknowledging what would be lost (change feed ${notify ? 'on' : 'off'})`, async () => {
      const file = tempSqliteFile();
      const consent = await open(file.filename, notify);
      try {
        await consent.record('ann', { news: 'granted' });
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file.filename}${suffix}`, { force: true });
        const refused = await consent.record('ben', { news: 'granted' }).then(() => null, (error: unknown) => error);
        expect(refused).to.be.instanceOf(ConsentStoreError);
        expect(await consent.erase('ann').then(() => null, (error: unknown) => error)).to.be.instanceOf(ConsentStoreError);
        const imported = consent.import([{ subjectId: 'cat', requirement: 'news', decision: 'granted', at: Date.now() - 1000 }]);
        expect(await imported.then(() => null, (error: unknown) => error)).to.be.instanceOf(ConsentStoreError);
      } finally {
        await consent.close();
        file.cleanup();
      }
    });
  }

  it('refuses writes to a file replaced before the first write, with the change feed off', async () => {
    const file = tempSqliteFile();
    const consent = await open(file.filename, false);
    try {
      const copy = `${file.filename}.copy`;
      copyFileSync(file.filename, copy);
      renameSync(copy, file.filename);
      expect(await consent.record('ben', { news: 'granted' }).then(() => null, (error: unknown) => error)).to.be.instanceOf(ConsentStoreError);
    } finally {
      await consent.close();
      file.cleanup();
    }
  });

  it('refuses writes once another file was moved into its place, and writes on a file that stays', async () => {
    const file = tempSqliteFile();
    const consent = await open(file.filename, true);
    try {
      await consent.record('ann', { news: 'granted' });
      await consent.record('ann', { news: 'denied' });
      expect((await consent.history('ann')).events).to.have.length(2);
      const copy = `${file.filename}.copy`;
      copyFileSync(file.filename, copy);
      renameSync(copy, file.filename);
      expect(await consent.record('ben', { news: 'granted' }).then(() => null, (error: unknown) => error)).to.be.instanceOf(ConsentStoreError);
    } finally {
      await consent.close();
      file.cleanup();
    }
  });
});
