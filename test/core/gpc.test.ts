import { expect } from 'chai';
import express from 'express';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { applyGpc } from '../../lib/core/gpc';
import { createConsent, type ChangePayload, type Consent } from '../../lib/index';
import { createPgDatabase, describePg, pgKnexConfig, sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const SECRET = 'g'.repeat(32);

function make(knex: Knex): Consent {
  const consent = createConsent({ knex, secret: SECRET, sweep: false, storeTimeoutMs: 60_000 });
  consent.register([
    { id: 'ads', title: 'Personalised ads', description: 'Sharing with ad partners.', gpc: true },
    { id: 'sale', title: 'Sale of data', description: 'Selling data.', lawfulBasis: 'legitimate_interests', gpc: true },
    { id: 'analytics', title: 'Analytics', description: 'Usage statistics.' },
  ]);
  return consent;
}

const gpcEvents = async (consent: Consent, subject: string) =>
  (await consent.history(subject)).events.filter((e) => e.source === 'gpc').map((e) => `${e.requirement}:${e.action}`);

describe('GPC recording (applyGpc)', () => {
  let file: ReturnType<typeof tempSqliteFile>;
  let knex: Knex;
  let consent: Consent;

  beforeEach(async () => {
    file = tempSqliteFile();
    knex = knexFactory(sqliteKnexConfig(file.filename));
    consent = make(knex);
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await knex.destroy();
    file.remove();
  });

  it('records one deny (source gpc) per gpc requirement not already denied, once', async () => {
    const changes: ChangePayload[] = [];
    consent.on('change', (c) => void changes.push(c));
    expect(await applyGpc(consent.engine, 'ann', { gpc: true })).to.deep.equal(['ads', 'sale']);
    expect(await gpcEvents(consent, 'ann')).to.deep.equal(['sale:deny', 'ads:deny']);
    expect(await applyGpc(consent.engine, 'ann', { gpc: true })).to.deep.equal([]);
    expect(await gpcEvents(consent, 'ann')).to.have.length(2);
    const states = await consent.states('ann');
    expect(states.ads).to.include({ state: 'denied', allowed: false });
    expect(states.sale).to.include({ state: 'denied', allowed: false });
    expect(states.analytics!.state).to.equal('unset');
    expect(changes.map((c) => `${c.subjectId}/${c.requirement}/${c.source}`)).to.deep.equal(['ann/ads/gpc', 'ann/sale/gpc']);
  });

  it('records nothing without a subject or without the signal', async () => {
    for (const subject of [null, undefined, '']) expect(await applyGpc(consent.engine, subject, { gpc: true })).to.deep.equal([]);
    expect(await applyGpc(consent.engine, 'bea', { gpc: false })).to.deep.equal([]);
    expect(await applyGpc(consent.engine, 'bea', {})).to.deep.equal([]);
    expect(await knex('consent_events').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    expect(await knex('consent_subjects').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });

  it('keeps a grant given while sending the signal (§7025(c)(3)); withdraws one given without it', async () => {
    await consent.engine.record('cal', { ads: 'granted' }, undefined, { gpc: true });
    await consent.engine.record('dee', { ads: 'granted' });
    expect(await applyGpc(consent.engine, 'cal', { gpc: true })).to.deep.equal(['sale']);
    expect(await consent.isAllowed('cal', 'ads', { gpc: true })).to.equal(true);
    expect(await applyGpc(consent.engine, 'dee', { gpc: true })).to.deep.equal(['ads', 'sale']);
    expect(await gpcEvents(consent, 'dee')).to.deep.equal(['sale:deny', 'ads:withdraw']);
    expect(await consent.isAllowed('dee', 'ads')).to.equal(false);
  });

  it('isAllowed() takes the signal only as a boolean: a header value such as "1" is refused, never read as no signal', async () => {
    await consent.engine.record('fay', { ads: 'granted' });
    expect(await consent.isAllowed('fay', 'ads')).to.equal(true);
    expect(await consent.isAllowed('fay', 'ads', { gpc: true })).to.equal(false);
    expect(await consent.isAllowed('fay', 'ads', {})).to.equal(true);
    for (const options of [{ gpc: '1' }, { gpc: 1 }, { gpc: 'true' }, { gpc: null }, { signal: true }, null, 'gpc']) {
      const refused = await consent.isAllowed('fay', 'ads', options as never).then(() => null, (error: unknown) => error);
      expect(refused, JSON.stringify(options)).to.have.property('code', 'invalid_argument');
    }
  });

  it('20 concurrent requests with the signal record exactly one denial each', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => applyGpc(consent.engine, 'eve', { gpc: true })));
    expect(results.flat().sort()).to.deep.equal(['ads', 'sale']);
    expect(await gpcEvents(consent, 'eve')).to.deep.equal(['sale:deny', 'ads:deny']);
  });

  it('runs before a response in an express app: Sec-GPC: 1 from a known subject records the refusal', async () => {
    const app = express();
    app.get('/page', async (req, res, next) => {
      try {
        await applyGpc(consent.engine, req.get('x-user') ?? null, { gpc: req.get('sec-gpc') === '1' });
        res.json(await consent.states(req.get('x-user') ?? 'nobody'));
      } catch (error) {
        next(error);
      }
    });
    expect((await request(app).get('/page').set('x-user', 'fin').expect(200)).body.ads.state).to.equal('unset');
    expect((await request(app).get('/page').set('Sec-GPC', '1').expect(200)).body.ads.state).to.equal('unset');
    expect((await request(app).get('/page').set('x-user', 'fin').set('Sec-GPC', '1').expect(200)).body.ads.state).to.equal('denied');
    expect(await gpcEvents(consent, 'fin')).to.deep.equal(['sale:deny', 'ads:deny']);
  });
});

describePg('GPC recording on PostgreSQL', () => {
  it('20 concurrent applyGpc calls from two instances record exactly one denial each', async () => {
    const database = await createPgDatabase();
    const knexes = [knexFactory(pgKnexConfig(database.url)), knexFactory(pgKnexConfig(database.url))];
    const instances = knexes.map(make);
    try {
      for (const instance of instances) await instance.ready();
      const calls = Array.from({ length: 20 }, (_, i) => applyGpc(instances[i % 2]!.engine, 'gil', { gpc: true }));
      expect((await Promise.all(calls)).flat().sort()).to.deep.equal(['ads', 'sale']);
      expect(await gpcEvents(instances[0]!, 'gil')).to.deep.equal(['sale:deny', 'ads:deny']);
    } finally {
      for (const instance of instances) await instance.close();
      for (const knex of knexes) await knex.destroy();
      await database.drop();
    }
  });
});
