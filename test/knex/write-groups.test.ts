import { expect } from 'chai';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { eventAfter, grantedRecord, planOf, pseudonymFor } from '../../lib/testing/fixtures';
import { countStatements } from '../helpers/count-statements';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

describeEachDatabase('writes and reads that arrive together', (open) => {
  let db: TestDatabase;
  let consent: Consent;

  beforeEach(async () => {
    db = await open();
    consent = createConsent({ knex: db.knex, secret: 'g'.repeat(32), cache: false, storeTimeoutMs: 30_000 });
    consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open' });
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('share commits; every write lands and every chain verifies', async () => {
    const commits = countStatements(db.knex, /^commit/i);
    const people = Array.from({ length: 30 }, (_, i) => `person-${String(i)}`);
    await Promise.all(people.map((id, i) => consent.record(id, { analytics: i % 2 ? 'denied' : 'granted' })));
    commits.stop();
    expect(commits.n).to.be.greaterThan(0).and.lessThan(people.length);
    for (const [i, id] of people.entries()) {
      expect((await consent.states(id)).analytics?.state).to.equal(i % 2 ? 'denied' : 'granted');
    }
    expect(await consent.verify()).to.deep.include({ ok: true, checked: people.length });
    // The same subjects again, twice each at once: a group never holds one subject twice.
    await Promise.all([...people, ...people].map((id) => consent.record(id, { analytics: 'granted' })));
    expect(await consent.verify()).to.deep.include({ ok: true, checked: people.length * 3 });
    const { events } = await consent.history('person-1', { limit: 10 });
    expect(events.map((e) => e.action)).to.deep.equal(['grant', 'grant', 'deny']);
  });

  it('answer reads made together with fewer statements, each with its own subject', async () => {
    const people = Array.from({ length: 20 }, (_, i) => `reader-${String(i)}`);
    for (const [i, id] of people.entries()) await consent.record(id, { analytics: i % 2 ? 'denied' : 'granted' });
    const selects = countStatements(db.knex, /^select/i);
    const states = await Promise.all([...people, 'nobody'].map((id) => consent.states(id)));
    selects.stop();
    expect(selects.n).to.be.greaterThan(0).and.lessThan(people.length);
    expect(states.map((s) => s.analytics?.state)).to.deep.equal([...people.map((_, i) => (i % 2 ? 'denied' : 'granted')), 'unset']);
  });

  it('give a group of new subjects its event ids from its first insert, above every id handed out before (on SQLite no statement of its own)', async () => {
    await consent.record('first', { analytics: 'granted' });
    await consent.record('second', { analytics: 'granted' });
    // The newest event deleted: its id is never handed out again.
    const [{ newest }] = (await db.knex('consent_events').max('id as newest')) as [{ newest: number | string }];
    await db.knex('consent_events').where('id', newest).delete();
    const marks = countStatements(db.knex, /^select max\(coalesce\(\(select seq from sqlite_sequence/i);
    const fresh = Array.from({ length: 12 }, (_, i) => `new-${String(i)}`);
    await Promise.all(fresh.map((id) => consent.record(id, { analytics: 'granted' })));
    marks.stop();
    expect(marks.n).to.equal(0);
    const ids = ((await db.knex('consent_events').whereNot('id', '<=', newest).pluck('id')) as Array<number | string>).map(Number);
    expect(ids).to.have.length(fresh.length);
    expect(Math.min(...ids)).to.be.greaterThan(Number(newest));
    // A group of subjects stored already creates no row: it reads the mark as before.
    const again = countStatements(db.knex, /^select max\(coalesce\(\(select seq from sqlite_sequence/i);
    await Promise.all(fresh.map((id) => consent.record(id, { analytics: 'denied' })));
    again.stop();
    if (db.knex.client.config.client === 'pg') expect(again.n).to.equal(0);
    else expect(again.n).to.be.greaterThan(0);
  });

  it('a failed statement fails only the write that caused it', async () => {
    const tracker = new KnexTracker(db.knex);
    await tracker.init({ migrate: true });
    const good = (s: Parameters<typeof planOf>[0]) => ({ plan: planOf(s, [eventAfter(s, 1)], [grantedRecord('analytics')]), result: null });
    // Two events at one position: the (chain, seq) key refuses the insert.
    const clash = (s: Parameters<typeof planOf>[0]) => ({ plan: planOf(s, [eventAfter(s, 1), eventAfter(s, 1)], []), result: null });
    const w = (n: number) => pseudonymFor(`w-${String(n)}`);
    const settled = await Promise.allSettled([0, 1, 2, 3, 4].map((n) => tracker.write(w(n), n === 2 ? clash : good)));
    expect(settled.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    for (const n of [0, 1, 3, 4]) expect(await tracker.history(w(n), { limit: 5 })).to.have.length(1);
    expect(await tracker.history(w(2), { limit: 5 })).to.deep.equal([]);
  });

  it('gives new chains 8-byte keys that start with their creation time in seconds, so they sort in the order they were created', async () => {
    const ids = ['first', 'second', 'third'];
    const times: number[] = [];
    for (const id of ids) {
      times.push(Date.now());
      await consent.record(id, { analytics: 'granted' });
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const chains: Buffer[] = [];
    for (const id of ids) {
      const row: { chain: Buffer } | undefined = await db.knex('consent_subjects').where({ pseudonym: Buffer.from(consent.engine.pseudonym(id), 'hex') }).first('chain');
      expect(row?.chain).to.be.instanceOf(Buffer).with.length(8);
      chains.push(row?.chain as Buffer);
    }
    // In creation order, whether or not a second passed between them.
    expect(chains.map((c) => c.toString('hex'))).to.deep.equal(chains.map((c) => c.toString('hex')).sort());
    chains.forEach((chain, i) => expect(chain.readUInt32BE(0)).to.be.within(Math.floor((times[i] as number) / 1000), Math.floor((times[i] as number) / 1000) + 2));
  });
}, { betterSqlite: true });
