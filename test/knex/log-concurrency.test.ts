import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, KnexTracker, verifyReceipt, type Consent } from '../../lib/index';
import { LogFolder } from '../../lib/audit/log-seal';
import { planBatch } from '../../lib/state/plan';
import { loggedEvents } from '../../lib/testing/fixtures';
import { writeBatch } from '../../lib/knex/write-batch';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';

const SECRET = 'log-concurrency-secret-0123456789abcdef0';
const quiet = { warn() {}, error() {} };

describePg('the global log under concurrent writers (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createPgDatabase>>;
  const pools: Knex[] = [];
  const instances: Consent[] = [];

  function instance(): Consent {
    const knex = knexFactory(pgKnexConfig(database.url));
    pools.push(knex);
    const consent = createConsent({ knex, secret: SECRET, storeTimeoutMs: 60_000, logger: quiet });
    consent.register([{ id: 'a', title: 'A', description: 'A' }, { id: 'b', title: 'B', description: 'B' }]);
    instances.push(consent);
    return consent;
  }

  beforeEach(async () => {
    database = await createPgDatabase();
  });

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((c) => c.close()));
    await Promise.all(pools.splice(0).map((k) => k.destroy()));
    await database.drop();
  });

  it('never loses, doubles or skips an entry while many subjects are written through several pools and sealed meanwhile', async function () {
    this.timeout(120_000);
    const [one, two, three] = [instance(), instance(), instance()];
    await Promise.all([one, two, three].map((c) => c.ready()));
    let writing = true;
    // Seals (checkpoints) run all along, from every process, racing the writers.
    const sealing = (async () => {
      const sizes: number[] = [];
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set false by the writers' side once they are done
      for (let i = 0; writing; i += 1) sizes.push((await [one, two, three][i % 3]!.checkpoint()).size);
      return sizes;
    })();
    const writes = Array.from({ length: 240 }, (_, i) =>
      [one, two, three][i % 3]!.record(`s${String(i % 60)}`, { [i % 2 ? 'a' : 'b']: i % 5 ? 'granted' : 'denied' }),
    );
    const imports = [one, two].map((c, k) =>
      c.import(Array.from({ length: 200 }, (_, i) => ({ subjectId: `imp${String(k)}-${String(i)}`, requirement: 'a', decision: 'granted', at: Date.now() - 1000 }))),
    );
    await Promise.all([...writes, ...imports]);
    writing = false;
    const sizes = await sealing;
    expect(sizes.every((size, i) => i === 0 || size >= (sizes[i - 1] as number)), 'the sealed log only grows').to.equal(true);

    const stored: Array<{ id: string; hash: Buffer }> = await pools[0]!('consent_events').select('id', 'hash');
    const logged = await loggedEvents(one.engine.tracker);
    expect(stored).to.have.length(640);
    expect(logged.map((e) => `${e.id}/${e.hash}`).sort()).to.deep.equal(stored.map((e) => `${String(e.id as unknown)}/${e.hash.toString('hex')}`).sort());
    const final = await three.checkpoint();
    expect(final.size).to.equal(640);
    for (const c of [one, two, three]) expect(await c.verify({ checkpoint: final })).to.deep.include({ ok: true, checked: 640, problems: [] });
  });

  it('waits for a transaction of this database that started before a later one committed, then seals both in id order', async function () {
    this.timeout(60_000);
    const [one, two] = [instance(), instance()];
    await Promise.all([one.ready(), two.ready()]);
    await one.record('early', { a: 'granted' });
    expect((await one.checkpoint()).size).to.equal(1);
    // A write transaction that has its id but has not committed yet.
    const tracker = new KnexTracker(pools[0]!);
    const trx = await pools[0]!.transaction();
    try {
      await trx.raw('select txid_current()');
      // Another process writes after it and commits first: its entry must wait.
      await two.record('later', { b: 'denied' });
      expect((await two.checkpoint()).size).to.equal(1, 'the later entry waits behind the open transaction');
      const pseudonym = one.engine.pseudonym('slow');
      const requirement = one.engine.registry.require('a');
      const ctx = { now: Date.now(), source: 'app' as const, actor: null, note: null, data: null, ip: null, userAgent: null, personalSalt: null, gpc: false };
      await writeBatch(tracker, trx, [pseudonym], (_p, snapshot) => planBatch(snapshot, [{ requirement, decision: 'granted' }], ctx, one.engine.derivedKeys.chain).plan);
      await trx.commit();
    } catch (error) {
      await trx.rollback();
      throw error;
    }
    const checkpoint = await two.checkpoint();
    expect(checkpoint.size).to.equal(3);
    // In transaction id order: the slow write's event before the later one's.
    const ids = (await loggedEvents(one.engine.tracker)).map((e) => e.id);
    const slow = (await one.history('slow')).events[0]!.id;
    const later = (await one.history('later')).events[0]!.id;
    expect(ids.map((id) => one.engine.eventIds.encode(id)).slice(1)).to.deep.equal([slow, later]);
    expect(await one.verify({ checkpoint })).to.deep.include({ ok: true, checked: 3 });
  });

  it('is not held back by a transaction left open in another database of the server', async function () {
    this.timeout(60_000);
    const other = await createPgDatabase();
    const elsewhere = knexFactory(pgKnexConfig(other.url));
    const trx = await elsewhere.transaction();
    try {
      await trx.raw('select txid_current()');
      const consent = instance();
      await consent.ready();
      await consent.record('alice', { a: 'granted' });
      expect((await consent.checkpoint()).size).to.equal(1);
    } finally {
      await trx.rollback();
      await elsewhere.destroy();
      await other.drop();
    }
  });

  it('gives a receipt the log proof of a write sealed once the writes still under way before it end', async function () {
    this.timeout(60_000);
    const consent = instance();
    await consent.ready();
    // A write of another process that has its transaction id and has not committed yet.
    const trx = await pools[0]!.transaction();
    const other = { ended: false };
    try {
      await trx.raw('select txid_current()');
      await consent.record('kim', { a: 'granted' });
      // Left open for good: the receipt goes without the proof, after a short wait.
      expect((await consent.receipt('kim')).log).to.equal(null);
      await consent.record('lena', { a: 'granted' });
      setTimeout(() => { void trx.commit().then(() => { other.ended = true; }); }, 60);
      const receipt = await consent.receipt('lena');
      expect(other.ended, 'the other write ended while the receipt waited').to.equal(true);
      expect(receipt.log).to.include({ eventId: (await consent.history('lena')).events[0]!.id });
      expect(verifyReceipt(receipt, consent.publicKey)).to.equal(true);
    } finally {
      if (!other.ended) await trx.rollback().catch(() => undefined);
    }
  });

  it('lets one sealer fold an entry once when several race', async () => {
    const consent = instance();
    await consent.ready();
    await Promise.all(Array.from({ length: 30 }, (_, i) => consent.record(`r${String(i)}`, { a: 'granted' })));
    const trackers = Array.from({ length: 4 }, () => {
      const knex = knexFactory(pgKnexConfig(database.url));
      pools.push(knex);
      return new KnexTracker(knex);
    });
    const heads = await Promise.all(trackers.map((t) => t.sealLog(new LogFolder(consent.engine.derivedKeys.log))));
    expect(new Set(heads.map((h) => h?.size))).to.deep.equal(new Set([30]));
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 30 });
  });
});
