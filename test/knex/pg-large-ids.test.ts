import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, verifyReceipt, type Consent } from '../../lib/index';
import { headerSubject, memoryLogger, REQUIREMENTS, TEST_SECRET } from '../helpers/consent-setup';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';

// PostgreSQL hands out event ids up to 2^63 - 1; from 2^53 on a JavaScript number loses digits.
const START = '9007199254740993';

describePg('event ids from 2^53 on (PostgreSQL)', () => {
  let drop: () => Promise<void>;
  let knex: Knex;
  let consent: Consent;

  beforeEach(async () => {
    let url: string;
    ({ url, drop } = await createPgDatabase());
    knex = knexFactory(pgKnexConfig(url));
    consent = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger() });
    consent.register(REQUIREMENTS);
    await consent.ready();
    await knex.raw("select setval(pg_get_serial_sequence('consent_events', 'id'), ?::bigint)", [START]);
  });
  afterEach(async () => {
    await consent.close();
    await knex.destroy();
    await drop();
  });

  it('keeps every digit: the store verifies, and histories, receipts and exports read back', async () => {
    await consent.record('ada', { analytics: 'granted' });
    await consent.record('ada', { analytics: 'denied' });
    await consent.record('bea', { analytics: 'granted' });
    const ids = (await knex('consent_events').orderBy('id').select(knex.raw('id::text as id'))).map((r: { id: string }) => r.id);
    expect(ids).to.deep.equal(['9007199254740994', '9007199254740995', '9007199254740996']);
    expect(await consent.verify()).to.deep.equal({ ok: true, checked: 3, problems: [] });
    expect(await consent.verify({ subjectId: 'ada' })).to.include({ ok: true, checked: 2 });
    const history = (await consent.history('ada')).events;
    expect(new Set(history.map((e) => e.id)).size).to.equal(2);
    expect(verifyReceipt(await consent.receipt('ada'), consent.publicKey)).to.equal(true);
    expect((await consent.export('ada')).events).to.have.length(2);
  });
});
