import { expect } from 'chai';
import { createConsent, type Consent } from '../../lib/index';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'event-state-column-secret-0123456789abcdef';

describeEachDatabase('the state column of stored events', (open) => {
  let db: TestDatabase;
  let consent: Consent;

  beforeEach(async () => {
    db = await open();
    consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register([
      { id: 'c', title: 'c', description: 'c', version: 2, expiresAfterDays: 1 },
      { id: 'd', title: 'd', description: 'd', doubleOptIn: true },
    ]);
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  const stored = (): Promise<Array<{ action: string; state: string }>> =>
    db.knex('consent_events').orderBy('id').select<Array<{ action: string; state: string }>>('action', 'state');

  it('is empty where the action implies it, the state otherwise, and reads back as the state every time', async () => {
    await consent.record('s', { c: 'granted', d: 'granted' });
    await consent.record('s', { c: 'denied' });
    await consent.import([{ subjectId: 'old', requirement: 'c', version: 1, decision: 'granted', at: new Date(Date.now() - 1000) }]);
    expect(await stored()).to.deep.equal([
      { action: 'grant', state: '' },
      { action: 'request', state: '' },
      { action: 'withdraw', state: '' },
      // A grant of a version older than the one registered: as it is.
      { action: 'grant', state: 'outdated' },
    ]);
    const history = (subject: string) => consent.history(subject).then((page) => page.events.map((e) => `${e.action}:${e.state}`));
    expect(await history('s')).to.deep.equal(['withdraw:denied', 'request:pending', 'grant:granted']);
    expect(await history('old')).to.deep.equal(['grant:outdated']);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 4 });
  });

  it('reads a state written out in full (an earlier release\'s row) as before, and an emptied one that the action does not imply as tampering', async () => {
    await consent.record('s', { c: 'granted' });
    await consent.import([{ subjectId: 'old', requirement: 'c', version: 1, decision: 'granted', at: new Date(Date.now() - 1000) }]);
    await db.knex('consent_events').where({ state: '' }).update({ state: 'granted' });
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 2 });
    await db.knex('consent_events').where({ state: 'outdated' }).update({ state: '' });
    const result = await consent.verify();
    expect(result.ok).to.equal(false);
    expect(result.problems.map((p) => p.kind)).to.include('modified');
  });
});
