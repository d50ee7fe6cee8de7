import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { createConsent, type Consent, type VerifyResult } from '../../lib/index';
import { hmacWorkers } from '../../lib/audit/hmac-pool';
import { treeWorkers } from '../../lib/audit/tree-hasher';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { changeRecord, storedRecordsOf } from '../helpers/records';

const SECRET = 'verify-threads-test-secret-0123456789abcd';
const quiet = { warn() {}, error() {} };
type Row = Record<string, unknown>;

// 700 events: the log holds two complete blocks of 256 leaves and part of a third.
const SUBJECTS = 175;

const scripts = mkdtempSync(join(tmpdir(), 'tree-worker-'));
/** A thread that cannot start: its script throws as it loads. */
const throwing = join(scripts, 'throwing.mjs');
/** A thread that starts, then stops at its first batch without answering. */
const quitting = join(scripts, 'quitting.mjs');
writeFileSync(throwing, "throw new Error('no thread today');\n");
writeFileSync(quitting, "import { parentPort } from 'node:worker_threads';\nparentPort.once('message', () => process.exit(3));\n");

describeEachDatabase('verify() with event hashes and the log tree checked on worker threads', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;
  const saved = { ...treeWorkers };
  const savedHmac = { ...hmacWorkers };

  after(() => {
    rmSync(scripts, { recursive: true, force: true });
  });

  beforeEach(async () => {
    db = await open();
    knex = db.knex;
    consent = createConsent({ knex, secret: SECRET, logger: quiet });
    consent.register(['a', 'b', 'c', 'd'].map((id) => ({ id, title: id, description: id })));
    await consent.ready();
    const decisions = [];
    for (let i = 0; i < SUBJECTS; i += 1) for (const requirement of ['a', 'b', 'c', 'd']) decisions.push({ subjectId: `s${String(i)}`, requirement, decision: 'granted' as const, at: Date.now() });
    await consent.import(decisions);
    await consent.checkpoint();
  });

  afterEach(async () => {
    Object.assign(treeWorkers, saved);
    Object.assign(hmacWorkers, savedHmac);
    await consent.close();
    await db.release();
  });

  /** verify() with everything hashed in-process, then on threads from the first event and leaf: both results. */
  async function bothWays(run: () => Promise<VerifyResult> = () => consent.verify()): Promise<{ inProcess: VerifyResult; threaded: VerifyResult }> {
    treeWorkers.enabled = false;
    hmacWorkers.size = 0;
    const inProcess = await run();
    Object.assign(treeWorkers, { enabled: true, minLeaves: 0 });
    Object.assign(hmacWorkers, { size: 2, minEvents: 0 });
    const before = { tree: treeWorkers.started, treeFailed: treeWorkers.failed, hmac: hmacWorkers.started, hmacFailed: hmacWorkers.failed };
    const threaded = await run();
    expect(treeWorkers.started).to.equal(before.tree + 1, 'a thread hashed the tree');
    expect(hmacWorkers.started).to.equal(before.hmac + 2, 'two threads checked event hashes');
    expect([treeWorkers.failed, hmacWorkers.failed]).to.deep.equal([before.treeFailed, before.hmacFailed]);
    return { inProcess, threaded };
  }

  /**
   * Flips the last byte of the chain hash of the log's first leaf: the entry written back whole
   * (the form earlier releases stored, which holds the hashes), as the library reads it.
   */
  async function tamperLeaf(): Promise<void> {
    const [entry] = (await knex('consent_log').orderBy([{ column: 'tx' }, { column: 'part' }]).limit(1)) as Row[];
    const [read] = await consent.engine.tracker.logEntries({ limit: 1 });
    const leaves = Buffer.from(read?.leaves as Buffer);
    leaves[39] = (leaves[39] as number) ^ 1;
    await knex('consent_log').where({ tx: entry?.tx, part: entry?.part }).update({ leaves });
  }

  it('gives the same result as in-process hashing for an untouched store', async () => {
    const { inProcess, threaded } = await bothWays();
    expect(inProcess).to.deep.equal({ ok: true, checked: SUBJECTS * 4, problems: [] });
    expect(threaded).to.deep.equal(inProcess);
  });

  it('still catches a changed leaf, a changed block and a changed event, with the same problems in the same order', async () => {
    await tamperLeaf();
    const block: Row = await knex('consent_log_blocks').orderBy('idx').offset(1).first();
    const hash = Buffer.from(block.hash as Buffer);
    hash[0] = (hash[0] as number) ^ 1;
    await knex('consent_log_blocks').where({ idx: block.idx }).update({ hash });
    const event: Row = await knex('consent_events').orderBy('id', 'desc').first('id');
    await knex('consent_events').where({ id: event.id }).update({ state: 'denied' });

    const { inProcess, threaded } = await bothWays();
    expect(threaded).to.deep.equal(inProcess);
    expect(threaded.ok).to.equal(false);
    const kinds = threaded.problems.map((p) => `${p.eventId.startsWith('log') ? p.eventId : '<event>'} ${p.kind}`);
    expect(kinds).to.deep.equal(['log:0 modified', 'log:256 modified', 'log rollback', '<event> modified']);
  });

  /** The event rows of subject `s<n>`, in sequence order. */
  async function eventsOf(n: number): Promise<Row[]> {
    const pseudonym = Buffer.from(consent.engine.pseudonym(`s${String(n)}`), 'hex');
    const subject: Row = await knex('consent_subjects').where({ pseudonym }).first('chain');
    return (await knex('consent_events').where({ chain: subject.chain }).orderBy('seq')) as Row[];
  }

  it('finds the same changed, deleted, moved and forged events and changed records as in-process checking', async () => {
    const [changed, deleted, moved, forged, recorded] = await Promise.all([eventsOf(3), eventsOf(40), eventsOf(99), eventsOf(150), eventsOf(60)]);
    const recordedChain = recorded[0]?.chain as Buffer;
    expect((await storedRecordsOf(knex, recordedChain)).find((r) => r.requirement === 'b')).to.include({ decision: 'granted' });
    await changeRecord(knex, recordedChain, 'b', { decision: 'denied' });
    await knex('consent_events').where({ id: changed[1]?.id }).update({ state: 'denied' });
    await knex('consent_events').where({ id: deleted[1]?.id }).delete();
    await knex('consent_events').where({ id: moved[1]?.id }).update({ seq: -1 });
    await knex('consent_events').where({ id: moved[2]?.id }).update({ seq: 2 });
    await knex('consent_events').where({ id: moved[1]?.id }).update({ seq: 3 });
    await knex('consent_events').where({ id: forged[0]?.id }).update({ at: 1 });

    const { inProcess, threaded } = await bothWays();
    expect(threaded).to.deep.equal(inProcess);
    expect(threaded.ok).to.equal(false);
    expect(new Set(threaded.problems.map((p) => p.kind))).to.include.members(['modified', 'deleted', 'reordered', 'state_mismatch']);
  });

  it('checks events whose texts have escapes or characters beyond ASCII the same way, and finds them changed', async () => {
    const contexts = ['bannière', 'a "quoted" \\ path', 'tab\there', '😀 emoji'];
    await consent.import(contexts.map((context, i) => ({ subjectId: `ctx${String(i)}`, requirement: 'a', decision: 'denied' as const, at: Date.now(), context })));
    const untouched = await bothWays();
    expect(untouched.threaded).to.deep.equal(untouched.inProcess);
    expect(untouched.threaded.ok).to.equal(true);
    const event: Row = await knex('consent_events').where({ context: 'bannière' }).first('id');
    await knex('consent_events').where({ id: event.id }).update({ context: 'banniere' });
    const { inProcess, threaded } = await bothWays();
    expect(threaded).to.deep.equal(inProcess);
    expect(threaded.problems.map((p) => p.kind)).to.deep.equal(['modified']);
  });

  it('still reports a checkpoint the tampered log does not extend', async () => {
    const checkpoint = await consent.checkpoint();
    await tamperLeaf();
    const { inProcess, threaded } = await bothWays(() => consent.verify({ checkpoint }));
    expect(threaded).to.deep.equal(inProcess);
    expect(threaded.problems).to.deep.include({ eventId: `checkpoint:${String(SUBJECTS * 4)}`, kind: 'rollback' });
  });

  for (const [title, script] of [['cannot start', throwing], ['stop before answering', quitting]] as const) {
    it(`checks in-process when the threads ${title}`, async () => {
      Object.assign(treeWorkers, { enabled: true, minLeaves: 0, script: pathToFileURL(script) });
      Object.assign(hmacWorkers, { size: 2, minEvents: 0, script: pathToFileURL(script) });
      const failed = { tree: treeWorkers.failed, hmac: hmacWorkers.failed };
      expect(await consent.verify()).to.deep.equal({ ok: true, checked: SUBJECTS * 4, problems: [] });
      await tamperLeaf();
      const [event] = await eventsOf(7);
      await knex('consent_events').where({ id: event?.id }).update({ state: 'denied' });
      const tampered = await consent.verify();
      expect(treeWorkers.failed).to.equal(failed.tree + 2, 'both checks fell back');
      expect(hmacWorkers.failed).to.be.at.least(failed.hmac + 2, 'no batch was answered');
      treeWorkers.enabled = false;
      hmacWorkers.size = 0;
      expect(tampered).to.deep.equal(await consent.verify());
      expect(tampered.problems).to.deep.include({ eventId: 'log', kind: 'rollback' });
      expect(tampered.problems.map((p) => p.kind)).to.include('modified');
    });
  }
});
