import { expect } from 'chai';
import request from 'supertest';
import { heardBack } from '../helpers/consent-setup';
import { describePg } from '../helpers/databases';
import { expectProblem } from '../helpers/problem';
import { expectTablesIntact } from './load';
import { faultRig, TTL_MS, type FaultRig } from './pg-fault';

const user = (name: string) => ({ 'x-test-user': name });

/** Asks until the app answers `status` again on its own (bounded), and returns the attempts needed. */
async function recovers(rig: FaultRig, subject: string, status: number): Promise<number> {
  for (let attempt = 1; attempt <= 50; attempt += 1) {
    if ((await request(rig.app).get('/track').set(user(subject))).status === status) return attempt;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the app did not recover: /track never answered ${String(status)}`);
}

describePg('PostgreSQL cut under load', function (this: Mocha.Suite) {
  this.timeout(60_000);
  let rig: FaultRig;

  beforeEach(async () => {
    rig = await faultRig();
  });
  afterEach(() => rig.close());

  it('fails closed while the database is gone, serves cached states only within ttl, and recovers by itself', async () => {
    const granted = Array.from({ length: 20 }, (_, i) => `g${String(i)}`);
    for (const s of [...granted, 'cached']) await rig.consent.record(s, { analytics: 'granted' });
    await heardBack(rig.consent, granted.length + 1);
    await request(rig.app).get('/track').set(user('cached')).expect(200);
    rig.calls.track = 0;

    // Reads and writes in flight while the connection is cut: each one either completed or failed closed.
    const reads = granted.map((s) => request(rig.app).get('/track').set(user(s)));
    const writes = granted.map((s, i) => request(rig.app).put('/consent/me/ads').set(user(s)).send({ decision: 'granted', note: `cut-${String(i)}` }));
    const during = Promise.all([...reads, ...writes].map((r) => r.then((res) => res)));
    await new Promise((resolve) => setImmediate(resolve));
    rig.proxy.cut();
    const answers = await during;
    for (const res of answers) expect([200, 503], res.text).to.include(res.status);
    for (const res of answers.filter((r) => r.status === 503)) expectProblem(res, 503, 'store_unavailable');
    const readAnswers = answers.slice(0, granted.length);
    expect(rig.calls.track).to.equal(readAnswers.filter((r) => r.status === 200).length);

    // Fully down: every uncached state is a 503 and the handler never runs.
    const before = rig.calls.track;
    for (const s of granted) expectProblem(await request(rig.app).get('/track').set(user(s)), 503, 'store_unavailable');
    expectProblem(await request(rig.app).put('/consent/me/analytics').set(user('g0')).send({ decision: 'denied', note: 'down' }), 503, 'store_unavailable');
    expectProblem(await request(rig.app).delete('/consent/me/analytics').set(user('g1')), 503, 'store_unavailable');
    expectProblem(await request(rig.app).get('/consent/me').set(user('g2')), 503, 'store_unavailable');
    expect(rig.calls.track).to.equal(before);

    // The cached subject is served while its entry is fresh, and refused once ttl has passed.
    await request(rig.app).get('/track').set(user('cached')).expect(200);
    rig.clock.ms += TTL_MS - 1;
    await request(rig.app).get('/track').set(user('cached')).expect(200);
    rig.clock.ms += 1;
    expectProblem(await request(rig.app).get('/track').set(user('cached')), 503, 'store_unavailable');
    expect(rig.calls.track).to.equal(before + 2);

    rig.proxy.restore();
    await recovers(rig, 'g0', 200);
    for (const s of granted) await request(rig.app).get('/track').set(user(s)).expect(200);
    await request(rig.app).get('/track').set(user('cached')).expect(200);

    // Nothing half-written: acknowledged writes are there once, the refused ones left no trace.
    const notes: Array<{ note: string | null }> = await rig.direct('consent_events').select('note');
    for (const [i, res] of answers.slice(granted.length).entries()) {
      const found = notes.filter((n) => n.note === `cut-${String(i)}`).length;
      if (res.status === 200) expect(found, `cut-${String(i)}`).to.equal(1);
      else expect(found).to.be.at.most(1);
    }
    expect(notes.filter((n) => n.note === 'down')).to.deep.equal([]);
    expect(await rig.consent.isAllowed('g0', 'analytics')).to.equal(true);
    expect(await rig.consent.isAllowed('g1', 'analytics')).to.equal(true);
    await expectTablesIntact(rig.direct);
  });
});
