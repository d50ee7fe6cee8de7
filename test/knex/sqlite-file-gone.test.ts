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

/** Runs `fn` on a consent instance over a fresh SQLite file (see `open`), then closes and removes both. */
async function onFreshFile(notify: boolean, fn: (consent: Consent, filename: string) => Promise<void>): Promise<void> {
  const file = tempSqliteFile();
  const consent = await open(file.filename, notify);
  try {
    await fn(consent, file.filename);
  } finally {
    await consent.close();
    file.cleanup();
  }
}

/** What `promise` rejected with, or null when it resolved. */
const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => null, (error: unknown) => error);

/** Moves a copy of the file into its place: another file at the same path. */
function replaceFile(filename: string): void {
  copyFileSync(filename, `${filename}.copy`);
  renameSync(`${filename}.copy`, filename);
}

describe('an SQLite file removed or replaced under a running process', () => {
  for (const notify of [true, false]) {
    it(`refuses writes instead of acknowledging what would be lost (change feed ${notify ? 'on' : 'off'})`, () => onFreshFile(notify, async (consent, filename) => {
      await consent.record('ann', { news: 'granted' });
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${filename}${suffix}`, { force: true });
      expect(await failure(consent.record('ben', { news: 'granted' }))).to.be.instanceOf(ConsentStoreError);
      expect(await failure(consent.erase('ann'))).to.be.instanceOf(ConsentStoreError);
      const imported = consent.import([{ subjectId: 'cat', requirement: 'news', decision: 'granted', at: Date.now() - 1000 }]);
      expect(await failure(imported)).to.be.instanceOf(ConsentStoreError);
    }));
  }

  it('refuses writes to a file replaced before the first write, with the change feed off', () => onFreshFile(false, async (consent, filename) => {
    replaceFile(filename);
    expect(await failure(consent.record('ben', { news: 'granted' }))).to.be.instanceOf(ConsentStoreError);
  }));

  it('refuses writes once another file was moved into its place, and writes on a file that stays', () => onFreshFile(true, async (consent, filename) => {
    await consent.record('ann', { news: 'granted' });
    await consent.record('ann', { news: 'denied' });
    expect((await consent.history('ann')).events).to.have.length(2);
    replaceFile(filename);
    expect(await failure(consent.record('ben', { news: 'granted' }))).to.be.instanceOf(ConsentStoreError);
  }));
});
