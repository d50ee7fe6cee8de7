import { expect } from 'chai';
import request from 'supertest';
import type { Knex } from 'knex';
import { describePg } from '../helpers/databases';
import { expectProblem } from '../helpers/problem';
import { expectTablesIntact } from './load';
import { faultRig, type FaultRig } from './pg-fault';

const user = (name: string) => ({ 'x-test-user': name });

/** Waits (bounded) until `check` holds; for effects of writes that outlived their request. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

describePg('PostgreSQL pool exhausted', function (this: Mocha.Suite) {
  this.timeout(30_000);
  let rig: FaultRig;

  beforeEach(async () => {
    rig = await faultRig({ poolMax: 2, storeTimeoutMs: 300 });
  });
  afterEach(() => rig.close());

  it('answers 503 after storeTimeoutMs instead of waiting for a connection, then serves again', async () => {
    await rig.consent.record('ann', { analytics: 'granted' });
    const knex = (rig.consent.engine.configuredTracker as unknown as { knex: Knex }).knex;
    const held = await Promise.all([knex.transaction(), knex.transaction()]);
    try {
      expectProblem(await request(rig.app).get('/track').set(user('ann')), 503, 'store_unavailable');
      expectProblem(await request(rig.app).put('/consent/me/ads').set(user('ann')).send({ decision: 'granted', note: 'starved' }), 503, 'store_unavailable');
      expectProblem(await request(rig.app).get('/consent/me/history').set(user('ann')), 503, 'store_unavailable');
      expect(rig.calls).to.deep.equal({});
    } finally {
      await Promise.all(held.map((trx) => trx.rollback()));
    }
    await request(rig.app).get('/track').set(user('ann')).expect(200);
    expect(rig.calls.track).to.equal(1);
    // The write that gave up waiting may still have run once a connection freed up: never half of it.
    await expectTablesIntact(rig.direct);
  });
});

describePg('PostgreSQL slow to answer', function (this: Mocha.Suite) {
  this.timeout(30_000);
  let rig: FaultRig;

  beforeEach(async () => {
    rig = await faultRig({ storeTimeoutMs: 300 });
  });
  afterEach(() => rig.close());

  it('closes within seconds while the server does not answer (the change feed\'s connection is cut)', async () => {
    await rig.consent.record('ann', { analytics: 'granted' });
    rig.proxy.freeze();
    const started = Date.now();
    await rig.consent.close();
    expect(Date.now() - started).to.be.below(5_000);
  });

  it('gives up after storeTimeoutMs with 503; a write answered so is not made later, and its retry is enforced at once', async () => {
    await rig.consent.record('ann', { analytics: 'granted' });
    await request(rig.app).get('/track').set(user('ann')).expect(200);
    rig.proxy.delay(1_000);
    expectProblem(await request(rig.app).get('/track').set(user('bob')), 503, 'store_unavailable');
    expectProblem(await request(rig.app).delete('/consent/me/analytics').set(user('ann')), 503, 'store_unavailable');
    rig.proxy.delay(0);
    // The withdrawal reached its plan only after its caller was answered: it is not made (it
    // could otherwise overtake a decision answered since). Its transaction ends, with nothing.
    await eventually(async () => (await rig.direct.raw("select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%'")).rows[0].n === 0, 'the late write to end');
    expect(await rig.direct('consent_events').where({ action: 'withdraw' })).to.have.length(0);
    // The person tries again: that withdrawal is enforced at once.
    await request(rig.app).delete('/consent/me/analytics').set(user('ann')).expect(200);
    expectProblem(await request(rig.app).get('/track').set(user('ann')), 403, 'consent_required');
    expect(await rig.direct('consent_events').where({ action: 'withdraw' })).to.have.length(1);
    expect(rig.calls.track).to.equal(1);
    await expectTablesIntact(rig.direct);
  });
});
