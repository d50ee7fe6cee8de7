import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createConsent, type Consent } from '../../lib/index';
import { decodeRecords } from '../../lib/tracker';
import { memoryLogger } from '../helpers/consent-setup';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { storedRecordsOf } from '../helpers/records';

/*
 * A subject's records live in its own row (`records`, and `lapse_at` for the sweep): what is
 * stored there is what the reads, the sweep, confirmations and verify() see.
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

    now += 4 * DAY;
    expect(await consent.sweep()).to.deep.include({ recorded: 1 });
    expect(Number((await rowOf('ann')).lapse_at)).to.equal(Date.parse('2026-03-01T00:00:00.000Z') + 10 * DAY);
    await consent.record('ann', { analytics: 'denied' });
    expect((await rowOf('ann')).lapse_at).to.equal(null);
    expect(await consent.verify()).to.deep.include({ ok: true });
  });

  it('confirms a link through the records of the subject it names, and keeps no token once confirmed or erased', async () => {
    await consent.record('bo', { newsletter: 'granted' });
    await consent.record('cy', { newsletter: 'granted' });
    const tokensOf = async (subject: string) => decodeRecords((await rowOf(subject)).records).flatMap((r) => (r.pendingToken === null ? [] : [r.pendingToken]));
    expect((await tokensOf('bo')).length + (await tokensOf('cy')).length).to.equal(2);
    const app = express().use('/consent', consent.router());
    await request(app).post(`/consent/confirm/${tokens[0] as string}`).type('form').send('').expect(200);
    expect((await consent.states('bo')).newsletter?.state).to.equal('granted');
    expect(await tokensOf('bo')).to.deep.equal([]);
    // A link used once is spent; one for another subject does not confirm this one.
    await request(app).post(`/consent/confirm/${tokens[0] as string}`).type('form').send('').expect(404);
    await consent.erase('cy');
    await request(app).post(`/consent/confirm/${tokens[1] as string}`).type('form').send('').expect(404);
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

  it('sweeps past subjects whose lapse_at says a grant is due that is not: a page of them does not end the sweep', async () => {
    // Two subjects first in chain order whose rows say a grant lapses, though none does.
    for (const id of ['fay', 'gus']) await consent.record(id, { analytics: 'denied' });
    for (const id of ['fay', 'gus']) await db.knex('consent_subjects').where({ chain: (await rowOf(id)).chain }).update({ lapse_at: 1 });
    for (const id of ['hal', 'ida', 'jo']) await consent.record(id, { ads: 'granted' });
    now += 4 * DAY;
    const tracker = consent.engine.tracker as { lapsedGrants(query: { now: number; limit: number; after?: string }): Promise<Array<{ key: string }>> };
    const first = await tracker.lapsedGrants({ now, limit: 2 });
    expect(first).to.have.length(2);
    const rest = await tracker.lapsedGrants({ now, limit: 2, after: first[1]?.key });
    expect(rest).to.have.length(1);
    expect(await consent.sweep()).to.deep.include({ recorded: 3 });
    for (const id of ['hal', 'ida', 'jo']) expect((await consent.history(id)).events.map((e) => e.action)).to.deep.equal(['expire', 'grant']);
  });
});
