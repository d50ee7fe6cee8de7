import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createConsent, type Consent } from '../../lib/index';
import { decodeRecords } from '../../lib/tracker';
import { memoryLogger } from '../helpers/consent-setup';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { storedRecordsOf } from '../helpers/records';

/*
 * A subject's records live in its own row (`records`, and `lapse_at` for the sweep), and a
 * pending confirmation's token routes to its subject through `consent_pending`. What is stored
 * there is what the reads, the sweep and verify() see.
 */

const SECRET = 'f'.repeat(32);
const DAY = 86_400_000;

describeEachDatabase('records folded into the subject row', (open) => {
  let db: TestDatabase;
  let consent: Consent;
  let now: number;
  let tokens: string[];

  beforeEach(async () => {
    db = await open();
    now = Date.parse('2026-03-01T00:00:00.000Z');
    tokens = [];
    consent = createConsent({ knex: db.knex, secret: SECRET, cache: false, logger: memoryLogger(), now: () => new Date(now) });
    consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open', expiresAfterDays: 10 });
    consent.register({ id: 'ads', title: 'Ads', description: 'Ads on what you read', expiresAfterDays: 3 });
    consent.register({ id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail', doubleOptIn: true });
    consent.on('confirmation', (event) => { tokens.push(event.token); });
    await consent.ready();
  });
  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  const rowOf = async (subject: string): Promise<{ chain: Buffer; records: Buffer | null; lapse_at: unknown }> =>
    db.knex('consent_subjects').where({ pseudonym: Buffer.from(consent.engine.pseudonym(subject), 'hex') }).first('chain', 'records', 'lapse_at');

  it('keeps every record of a subject in its row, with the next expiry the sweep must record', async () => {
    await consent.record('ann', { analytics: 'granted', ads: 'granted', newsletter: 'granted' });
    const row = await rowOf('ann');
    const records = decodeRecords(row.records);
    expect(records.map((r) => [r.requirement, r.decision])).to.deep.equal([['ads', 'granted'], ['analytics', 'granted'], ['newsletter', null]]);
    expect(records[2]?.pendingToken).to.match(/^[0-9a-f]{64}$/);
    expect(Number(row.lapse_at)).to.equal(now + 3 * DAY);
    const pending: Array<{ chain: Buffer }> = await db.knex('consent_pending').select('chain');
    expect(pending.map((p) => p.chain.toString('hex'))).to.deep.equal([row.chain.toString('hex')]);

    now += 4 * DAY;
    expect(await consent.sweep()).to.deep.include({ recorded: 1 });
    expect(Number((await rowOf('ann')).lapse_at)).to.equal(Date.parse('2026-03-01T00:00:00.000Z') + 10 * DAY);
    await consent.record('ann', { analytics: 'denied' });
    expect((await rowOf('ann')).lapse_at).to.equal(null);
    expect(await consent.verify()).to.deep.include({ ok: true });
  });

  it('routes a confirmation through the pending table, and forgets the route once confirmed or erased', async () => {
    await consent.record('bo', { newsletter: 'granted' });
    await consent.record('cy', { newsletter: 'granted' });
    expect(await db.knex('consent_pending').count({ n: '*' }).first()).to.satisfy((r: { n: unknown }) => Number(r.n) === 2);
    const app = express().use('/consent', consent.router());
    await request(app).post(`/consent/confirm/${tokens[0] as string}`).type('form').send('').expect(200);
    expect((await consent.states('bo')).newsletter?.state).to.equal('granted');
    await consent.erase('cy');
    expect(await db.knex('consent_pending').count({ n: '*' }).first()).to.satisfy((r: { n: unknown }) => Number(r.n) === 0);
    expect((await rowOf('bo')).records).to.not.equal(null);
    const erased: { records: unknown; lapse_at: unknown } = await db.knex('consent_subjects').whereNull('pseudonym').first('records', 'lapse_at');
    expect(erased).to.deep.equal({ records: null, lapse_at: null });
    expect(await consent.verify()).to.deep.include({ ok: true });
  });

  it('reports a lapse_at changed behind its back, which would hide a grant from the sweep', async () => {
    await consent.record('di', { analytics: 'granted' });
    await consent.record('ed', { analytics: 'granted' });
    const di = await rowOf('di');
    await db.knex('consent_subjects').where({ chain: di.chain }).update({ lapse_at: null });
    now += 11 * DAY;
    // The sweep no longer finds di's grant; verify() says which chain's records were changed.
    expect(await consent.sweep()).to.deep.include({ recorded: 1 });
    const report = await consent.verify();
    expect(report.ok).to.equal(false);
    expect(report.problems.map((p) => [p.kind, p.chain])).to.deep.include(['state_mismatch', di.chain.toString('hex')]);
    expect((await storedRecordsOf(db.knex, di.chain))[0]?.expiryRecorded).to.equal(false);
  });
});
