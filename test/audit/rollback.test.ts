import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import type { Knex } from 'knex';
import request from 'supertest';
import { ConsentStoreError, createConsent, KnexTracker, verifyCheckpoint, verifyReceipt, type Checkpoint, type Consent } from '../../lib/index';
import { leafCount, leafId } from '../../lib/audit/log-leaf';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { storedIds, storedWithout } from '../helpers/log-rows';
import { storedRecordsOf } from '../helpers/records';
import { copyStore, restoreStore } from '../helpers/store-copy';

const SECRET = 'rollback-test-secret-0123456789abcdef0123';
const quiet = { warn() {}, error() {} };
type Row = Record<string, unknown>;

describeEachDatabase('the global log catches rollback', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');

  beforeEach(async () => {
    db = await open();
    knex = db.knex;
    consent = createConsent({ knex, secret: SECRET, logger: quiet, receipts: { privateKey, controller: 'ACME' } });
    consent.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  const publicIds = async (subject: string) => (await consent.history(subject, { limit: 50 })).events.map((e) => e.id);

  /** A subject removed whole, as with a backup's tools: its rows, and its events' leaves from the log. */
  const removeWhole = async (subject: string): Promise<void> => {
    const row: Row = await knex('consent_subjects').where({ pseudonym: Buffer.from(consent.engine.pseudonym(subject), 'hex') }).first('chain');
    const events: Row[] = await knex('consent_events').where({ chain: row.chain }).select('id');
    const gone = new Set(events.map((r) => String(r.id)));
    // Its records go with its subject row, which holds them.
    for (const table of ['consent_events', 'consent_subjects']) await knex(table).where({ chain: row.chain }).delete();
    const entries: Row[] = await knex('consent_log').select('tx', 'part', 'leaves');
    for (const entry of entries) {
      if (!storedIds(entry.leaves as Uint8Array).some((id) => gone.has(id))) continue;
      const kept = storedWithout(entry.leaves as Uint8Array, gone);
      if (kept === null) await knex('consent_log').where({ tx: entry.tx, part: entry.part }).delete();
      else await knex('consent_log').where({ tx: entry.tx, part: entry.part }).update({ leaves: kept });
    }
    expect((await consent.engine.tracker.logEntries({ limit: 1000 })).flatMap((e) => Array.from({ length: leafCount(e.leaves) }, (_, i) => leafId(e.leaves, i))).filter((id) => gone.has(id))).to.deep.equal([]);
  };

  it("catches one subject's rows restored from an earlier copy while others moved on", async () => {
    await consent.record('alice', { a: 'granted', b: 'granted' });
    await consent.record('bob', { a: 'granted' });
    const pseudonym = consent.engine.pseudonym('alice');
    // Her subject row, which holds her head and her records.
    const subject = (await knex('consent_subjects').where({ pseudonym: Buffer.from(pseudonym, 'hex') }).first()) as Row;
    const records = await storedRecordsOf(knex, subject.chain as Buffer);
    expect(records.find((r) => r.requirement === 'a')).to.include({ decision: 'granted' });
    // Alice withdraws; the log is sealed (a checkpoint is made) and others write on.
    await consent.record('alice', { a: 'denied' });
    const [withdrawal] = await publicIds('alice');
    await consent.checkpoint();
    await consent.record('bob', { b: 'denied' });
    await consent.record('carol', { a: 'granted' });
    expect((await storedRecordsOf(knex, subject.chain as Buffer)).find((r) => r.requirement === 'a')).to.include({ decision: 'denied' });
    // Her newest event goes, and her head and records are put back from the copy: every seal checks.
    const newest: Row = await knex('consent_events').where({ chain: subject.chain }).orderBy('seq', 'desc').first('id');
    await knex('consent_events').where({ id: newest.id }).delete();
    await knex('consent_subjects').where({ chain: subject.chain }).update(subject);
    expect(await storedRecordsOf(knex, subject.chain as Buffer)).to.deep.equal(records);
    expect((await consent.states('alice')).a?.state).to.equal('granted', 'the withdrawal is gone from what the library reads');
    // The log names the event, and no longer adds up to its sealed head: its entry holds the
    // event's id, and the leaf's hash was the event's.
    expect(await consent.verify()).to.deep.equal({ ok: false, checked: 5, problems: [{ eventId: 'log', kind: 'rollback' }, { eventId: withdrawal, kind: 'rollback' }] });
  });

  it("catches the log's head deleted, alone or with a subject removed whole and its leaves taken out of the log; no seal starts a new tree over what is left", async () => {
    await consent.record('alice', { a: 'granted' });
    await consent.record('bob', { a: 'denied', b: 'denied' });
    await consent.checkpoint();
    const restart = async () => {
      const errors: string[] = [];
      const next = createConsent({ knex, secret: SECRET, logger: { warn() {}, error: (m: string) => { errors.push(m); } }, receipts: { privateKey, controller: 'ACME' } });
      next.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
      await next.ready();
      return { next, errors };
    };
    // The head alone: a seal would fold every entry into a new tree; it is refused instead.
    const head = (await knex('consent_meta').where({ key: 'log' }).first()) as Row;
    await knex('consent_meta').where({ key: 'log' }).delete();
    {
      const { next, errors } = await restart();
      try {
        expect(errors.join('\n')).to.match(/the global log cannot be sealed: its head was changed or deleted without the secret/);
        expect((await next.verify()).problems).to.deep.include({ eventId: 'log', kind: 'rollback' });
        await next.record('alice', { b: 'granted' });
        expect(await next.checkpoint().then(() => null, (e: unknown) => e)).to.be.instanceOf(Error);
        expect(await knex('consent_meta').where({ key: 'log' }).first()).to.equal(undefined, 'no new head was sealed');
      } finally {
        await next.close();
      }
    }
    await knex('consent_meta').insert(head);
    // Bob removed whole: his rows, his leaves, the blocks and the head.
    await removeWhole('bob');
    await knex('consent_log_blocks').delete();
    await knex('consent_meta').where({ key: 'log' }).delete();
    const { next, errors } = await restart();
    try {
      expect(errors.join('\n')).to.match(/head was changed or deleted/);
      expect((await next.states('bob')).a?.state).to.equal('unset', 'his refusal is gone from what the library reads');
      const result = await next.verify();
      expect(result.ok).to.equal(false);
      expect(result.problems).to.deep.include({ eventId: 'log', kind: 'rollback' });
    } finally {
      await next.close();
    }
  });

  it('refuses a log without its head while a transaction still running holds the seal back (PostgreSQL), as without one', async function () {
    this.timeout(20_000);
    await consent.record('alice', { a: 'granted' });
    await consent.checkpoint();
    // PostgreSQL: any transaction left open (an idle session, or the attacker's own) that holds
    // a transaction id. SQLite seals whatever the log holds, behind its write lock.
    const open = knex.client.config.client === 'pg' ? await knex.transaction() : null;
    try {
      await open?.raw('select txid_current()');
      await consent.record('bob', { a: 'granted' });
      await consent.engine.sealLog();
      await removeWhole('alice');
      await knex('consent_log_blocks').delete();
      await knex('consent_meta').where({ key: 'log' }).delete();
      const errors: string[] = [];
      const next = createConsent({ knex, secret: SECRET, logger: { warn() {}, error: (m: string) => { errors.push(m); } }, receipts: { privateKey, controller: 'ACME' } });
      next.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
      try {
        await next.ready();
        expect(errors.join('\n')).to.match(/head was changed or deleted/);
        expect(await knex('consent_meta').where({ key: 'log' }).first()).to.equal(undefined, 'no new head over what is left');
        expect((await next.verify()).problems).to.deep.include({ eventId: 'log', kind: 'rollback' });
        await open?.commit();
        await next.record('carol', { a: 'granted' });
        expect((await next.verify()).problems).to.deep.include({ eventId: 'log', kind: 'rollback' });
      } finally {
        await next.close();
      }
    } finally {
      if (open !== null && !open.isCompleted()) await open.rollback();
    }
  });

  it('starts on a database too slow to seal within storeTimeoutMs when its log has a head, with a warning', async function () {
    this.timeout(20_000);
    /** Seals and head reads that take longer than the deadline. */
    class Slow extends KnexTracker {
      override async sealLog(fold: Parameters<KnexTracker['sealLog']>[0]): ReturnType<KnexTracker['sealLog']> {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return super.sealLog(fold);
      }

      override async logHead(): ReturnType<KnexTracker['logHead']> {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return super.logHead();
      }
    }
    const warnings: string[] = [];
    const slow = createConsent({ tracker: new Slow(knex), secret: SECRET, storeTimeoutMs: 100, logger: { warn: (m: string) => { warnings.push(m); }, error() {} }, receipts: { privateKey, controller: 'ACME' } });
    slow.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
    try {
      await slow.ready();
      expect(warnings.join('\n')).to.match(/the global log is not sealed yet/);
    } finally {
      await slow.close();
    }
  });

  it("gives a new store's empty log its head at start, trying again when the seal fails, and refuses to start without one", async function () {
    this.timeout(20_000);
    /** A tracker whose first `failures` seals fail (a dropped connection, a lock timeout). */
    class FailingSeals extends KnexTracker {
      constructor(knex: Knex, private failures: number) {
        super(knex, { tablePrefix: 'fresh_' });
      }

      override sealLog(fold: Parameters<KnexTracker['sealLog']>[0]): ReturnType<KnexTracker['sealLog']> {
        if (this.failures > 0) {
          this.failures -= 1;
          return Promise.reject(new Error('connection reset'));
        }
        return super.sealLog(fold);
      }
    }
    const errors: string[] = [];
    const started = (failures: number) => {
      const next = createConsent({ tracker: new FailingSeals(knex, failures), secret: SECRET, logger: { warn() {}, error: (m: string) => { errors.push(m); } }, receipts: { privateKey, controller: 'ACME' } });
      next.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
      return next;
    };
    // Every try fails: no write may append to a log without a head, so it does not start.
    const never = started(3);
    expect(await never.ready().then(() => null, (e: unknown) => e)).to.be.instanceOf(ConsentStoreError).with.property('message').that.matches(/log seal/);
    await never.close();
    expect(await new KnexTracker(knex, { tablePrefix: 'fresh_' }).logHead()).to.equal(null);
    // The first fails, the next gives the empty log its head: the writes after it are logged.
    const next = started(1);
    try {
      await next.ready();
      expect((await next.engine.tracker.logHead())?.size).to.equal(0);
      await next.record('alice', { a: 'granted' });
      expect(await next.verify()).to.deep.include({ ok: true, checked: 1 });
      expect((await next.checkpoint()).size).to.equal(1);
      expect(errors).to.deep.equal([]);
    } finally {
      await next.close();
    }
  });

  it('catches the whole database restored from an earlier copy against a later checkpoint, and not without one', async () => {
    await consent.record('alice', { a: 'granted' });
    const early = await consent.checkpoint();
    const copy = await copyStore(knex);
    await consent.record('alice', { a: 'denied' });
    await consent.record('bob', { a: 'granted', b: 'granted' });
    const later = await consent.checkpoint();
    expect(later.size).to.equal(4);
    expect(await consent.verify({ checkpoint: later })).to.deep.equal({ ok: true, checked: 4, problems: [] });
    await consent.record('bob', { b: 'denied' });
    expect(await consent.verify({ checkpoint: later })).to.deep.include({ ok: true, problems: [] }, 'later writes extend it');

    await restoreStore(knex, copy);
    // The copy is consistent in itself: only a checkpoint kept elsewhere shows what was lost.
    expect(await consent.verify()).to.deep.equal({ ok: true, checked: 1, problems: [] });
    expect(await consent.verify({ checkpoint: early })).to.deep.equal({ ok: true, checked: 1, problems: [] });
    expect(await consent.verify({ checkpoint: later })).to.deep.equal({ ok: false, checked: 1, problems: [{ eventId: 'checkpoint:4', kind: 'rollback' }] });
    // A log as long as the checkpoint but with other contents fails as well.
    await consent.record('dave', { a: 'granted', b: 'granted' });
    await consent.record('erin', { a: 'granted' });
    expect((await consent.checkpoint()).size).to.equal(4);
    expect((await consent.verify({ checkpoint: later })).problems).to.deep.equal([{ eventId: 'checkpoint:4', kind: 'rollback' }]);
  });

  it('signs checkpoints with the receipts key and emits each one; verifyCheckpoint() checks them offline', async () => {
    const seen: Checkpoint[] = [];
    consent.on('checkpoint', (c) => { seen.push(c); });
    const empty = await consent.checkpoint();
    expect(empty).to.deep.include({ version: 1, size: 0, root: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', controller: { name: 'ACME' } });
    await consent.record('alice', { a: 'granted' });
    const checkpoint = await consent.checkpoint();
    expect(seen).to.deep.equal([empty, checkpoint]);
    expect(Object.keys(checkpoint).sort()).to.deep.equal(['controller', 'issuedAt', 'proof', 'root', 'size', 'version']);
    expect(verifyCheckpoint(checkpoint, consent.publicKey)).to.equal(true);
    expect(verifyCheckpoint(JSON.parse(JSON.stringify(checkpoint)), publicKey)).to.equal(true);
    expect(verifyCheckpoint({ ...checkpoint, size: 2 }, publicKey)).to.equal(false);
    expect(verifyCheckpoint({ ...checkpoint, root: empty.root }, publicKey)).to.equal(false);
    expect(verifyCheckpoint({ ...checkpoint, extra: 1 }, publicKey)).to.equal(false);
    expect(verifyCheckpoint(checkpoint, generateKeyPairSync('ed25519').publicKey)).to.equal(false);
    for (const junk of [null, 1, 'x', [], {}, { ...checkpoint, proof: null }]) expect(verifyCheckpoint(junk, publicKey)).to.equal(false);
    for (const bad of [{}, { ...checkpoint, size: -1 }, { ...checkpoint, root: 'zz' }, 'x']) {
      const error: unknown = await consent.verify({ checkpoint: bad as Checkpoint }).catch((e: unknown) => e);
      expect(error).to.include({ code: 'invalid_argument' });
    }
    // Never throws, even for an object whose members throw when read.
    const trap = new Proxy(checkpoint, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } });
    expect(verifyCheckpoint(trap, publicKey)).to.equal(false);
  });

  it('trusts a checkpoint only when its signature verifies: an edited or foreign one is refused, not checked', async () => {
    await consent.record('alice', { a: 'granted' });
    const early = await consent.checkpoint();
    const copy = await copyStore(knex);
    await consent.record('alice', { a: 'denied' });
    const later = await consent.checkpoint();
    await restoreStore(knex, copy);
    // Rolled back, and the kept checkpoint edited to match the copy: the edit is what is caught.
    const edited = { ...later, size: early.size, root: early.root };
    const refusal = (await consent.verify({ checkpoint: edited }).catch((e: unknown) => e)) as { code: string; message: string };
    expect(refusal).to.include({ code: 'invalid_argument' });
    expect(refusal.message).to.match(/signature does not verify/);
    const unsigned = { ...early, proof: { ...early.proof, signature: 'AAAA' } };
    expect(await consent.verify({ checkpoint: unsigned }).catch((e: unknown) => e)).to.include({ code: 'invalid_argument' });
    // Signed by another deployment's key: refused, unless that key is the one named.
    const other = generateKeyPairSync('ed25519');
    const elsewhere = createConsent({ knex, secret: SECRET, logger: quiet, receipts: { privateKey: other.privateKey, controller: 'ACME' } });
    elsewhere.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
    try {
      const foreign = await elsewhere.checkpoint();
      expect(await consent.verify({ checkpoint: foreign }).catch((e: unknown) => e)).to.include({ code: 'invalid_argument' });
      expect(await consent.verify({ checkpoint: foreign, publicKey: other.publicKey })).to.deep.include({ ok: true });
      expect(await consent.verify({ checkpoint: later, publicKey: other.publicKey }).catch((e: unknown) => e)).to.include({ code: 'invalid_argument' });
    } finally {
      await elsewhere.close();
    }
    expect((await consent.verify({ checkpoint: later })).problems).to.deep.equal([{ eventId: 'checkpoint:2', kind: 'rollback' }]);
    for (const options of [{ bogus: 1 }, { publicKey }, null, 'x']) {
      expect(await consent.verify(options as never).catch((e: unknown) => e), JSON.stringify(options)).to.include({ code: 'invalid_argument' });
    }
  });

  it('gives receipts an inclusion proof of the newest event that verifies offline and fails when tampered', async () => {
    // Enough events for stored blocks: the proof is built from them and a few leaves.
    await consent.import(Array.from({ length: 300 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'a', decision: 'granted', at: Date.now() - 1000 })));
    await consent.record('alice', { a: 'granted' });
    await consent.record('s7', { b: 'denied' });
    await consent.record('zed', { a: 'granted' });
    for (const subject of ['s7', 'alice', 's250']) {
      const receipt = await consent.receipt(subject);
      const log = receipt.log!;
      expect(log.eventId).to.equal((await publicIds(subject))[0]);
      expect(log.checkpoint.size).to.equal(303);
      expect(verifyCheckpoint(log.checkpoint, publicKey)).to.equal(true);
      expect(verifyReceipt(receipt, publicKey)).to.equal(true, subject);
      expect(await consent.verify({ checkpoint: log.checkpoint })).to.deep.include({ ok: true });
    }
    const receipt = await consent.receipt('s7');
    const log = receipt.log!;
    // Re-signing after a change is impossible without the key; a receipt whose log proof does not
    // hold fails even where its signature would (the signature covers the log proof too).
    expect(verifyReceipt({ ...receipt, log: { ...log, leafIndex: log.leafIndex + 1 } }, publicKey)).to.equal(false);
    expect(verifyReceipt({ ...receipt, log: { ...log, path: log.path.slice(1) } }, publicKey)).to.equal(false);
    expect(verifyReceipt({ ...receipt, log: null }, publicKey)).to.equal(false);
    const { log: _log, ...old } = receipt;
    expect(verifyReceipt(old, publicKey)).to.equal(false, 'the signature covers the log proof');
    expect(await consent.receipt('nobody')).to.include({ log: null });
  });

  it('verifies an untouched database after erasure, import, sweep, double opt-in and GPC writes', async () => {
    await consent.close();
    let now = Date.UTC(2026, 0, 1);
    consent = createConsent({ knex, secret: SECRET, logger: quiet, receipts: { privateKey, controller: 'ACME' }, now: () => new Date(now), subject: (req) => req.get('x-user') });
    consent.register([
      { id: 'a', title: 'a', description: 'a', expiresAfterDays: 1 },
      { id: 'b', title: 'b', description: 'b', doubleOptIn: true },
      { id: 'c', title: 'c', description: 'c', gpc: true },
    ]);
    const tokens: string[] = [];
    consent.on('confirmation', (p) => { tokens.push(p.token); });
    await consent.ready();
    await consent.import([{ subjectId: 'imp', requirement: 'a', decision: 'granted', at: now - 1000 }]);
    await consent.record('alice', { a: 'granted', b: 'granted', c: 'granted' });
    await consent.record('bob', { c: 'granted' });
    expect(tokens).to.have.length(1);
    const app = express();
    app.use('/consent', consent.router());
    await request(app).post(`/consent/confirm/${tokens[0]!}`).expect(200);
    await request(app).get('/consent/me').set('x-user', 'alice').set('Sec-GPC', '1').expect(200);
    expect((await consent.history('alice')).events[0]).to.include({ source: 'gpc', action: 'withdraw' });
    await consent.erase('bob');
    now += 2 * 86_400_000;
    expect(await consent.sweep()).to.deep.equal({ recorded: 2, refused: 0 });
    const result = await consent.verify();
    expect(result).to.deep.include({ ok: true, problems: [] });
    // import 1, alice 3, bob 1, confirmation 1, GPC 1, erasure 1, sweep 2.
    expect(result.checked).to.equal(10);
    expect((await consent.checkpoint()).size).to.equal(10);
  });
});
