import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { encodeLeaves, LEAF_BYTES } from '../../lib/audit/log-leaf';
import { createConsent, verifyReceipt, type Consent } from '../../lib/index';
import type { Row } from '../../lib/knex/rows';
import { statementsDuring } from '../helpers/count-statements';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { storedIds } from '../helpers/log-rows';

const SECRET = 'log-ids-secret-0123456789abcdef0123456789ab';
const { privateKey } = generateKeyPairSync('ed25519');

describeEachDatabase('the global log stores its events\' ids, and reads their hashes from the events', (open) => {
  let db: TestDatabase;
  let consent: Consent;

  beforeEach(async () => {
    db = await open();
    consent = createConsent({ knex: db.knex, secret: SECRET, receipts: { privateKey, controller: 'ACME' }, logger: { warn() {}, error() {} } });
    consent.register([{ id: 'a', title: 'a', description: 'a' }, { id: 'b', title: 'b', description: 'b' }]);
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  /** Every log entry as the tracker reads it. */
  async function entries(): Promise<Array<{ key: string; leaves: Buffer }>> {
    return consent.engine.tracker.logEntries({ limit: 1000 });
  }

  /** The leaves every stored entry names, each with its event's hash as the events table holds it now. */
  async function expectedLeaves(): Promise<Buffer[]> {
    const hashes = new Map((await db.knex('consent_events').select<Row[]>('id', 'hash')).map((r) => [String(r.id), Buffer.from(r.hash as Uint8Array).toString('hex')]));
    const stored: Row[] = await db.knex('consent_log').orderBy([{ column: 'tx' }, { column: 'part' }]);
    return stored.map((r) => encodeLeaves(storedIds(r.leaves as Uint8Array).map((id) => ({ id, hash: hashes.get(id) ?? '00'.repeat(32) }))));
  }

  it('keeps 13 bytes for a write or an import of any size, and gives back every leaf with its event\'s hash', async () => {
    const at = Date.now() - 60_000;
    // More events in one entry than one statement reads: the entry's hashes take two.
    await consent.import(Array.from({ length: 20_000 }, (_, i) => ({ subjectId: `u${String(i)}`, requirement: 'a', decision: 'granted', at })), { batchSize: 10_000 });
    await consent.record('w', { a: 'granted', b: 'denied' });
    const stored: Row[] = await db.knex('consent_log').orderBy([{ column: 'tx' }, { column: 'part' }]);
    expect(stored.map((r) => (r.leaves as Uint8Array).length)).to.deep.equal([13, 13, 13]);
    expect(stored.map((r) => storedIds(r.leaves as Uint8Array).length)).to.deep.equal([10_000, 10_000, 2]);
    // Sealed first: the sealer's own reads do not fall inside the count.
    await consent.checkpoint();
    let read: Array<{ leaves: Buffer }> = [];
    const statements = await statementsDuring(db.knex, /consent_events/, async () => { read = await entries(); });
    expect(read.map((e) => e.leaves)).to.deep.equal(await expectedLeaves());
    // Three entries, 20,002 events: the hashes in two statements.
    expect(statements).to.have.length(2);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 20_002, problems: [] });
    for (const subject of ['u0', 'u19999', 'w']) expect(verifyReceipt(await consent.receipt(subject), consent.publicKey), subject).to.equal(true);
  });

  it("reads for a receipt's inclusion proof the hashes of the leaves it needs, not of its whole entry", async () => {
    const at = Date.now() - 60_000;
    await consent.import(Array.from({ length: 10_000 }, (_, i) => ({ subjectId: `u${String(i)}`, requirement: 'a', decision: 'granted', at })), { batchSize: 10_000 });
    await consent.record('w', { a: 'granted' });
    await consent.checkpoint();
    // The ids whose hashes each statement on the events asked for (the ranges it names).
    let asked = 0;
    const listener = (query: { sql: string; bindings?: unknown[] }): void => {
      if (!/consent_events/.test(query.sql) || !/between/.test(query.sql)) return;
      const b = query.bindings ?? [];
      if (typeof b[0] === 'string' && b[0].startsWith('{')) {
        const [lo, hi] = [b[0], b[1] as string].map((list) => list.slice(1, -1).split(',').map(Number));
        asked += (lo as number[]).reduce((sum, l, k) => sum + ((hi as number[])[k] as number) - l + 1, 0);
      } else {
        for (let k = 0; k + 2 < b.length; k += 3) asked += Number(b[k + 2]) - Number(b[k + 1]) + 1;
      }
    };
    db.knex.on('query', listener);
    try {
      for (const subject of ['u0', 'u5000', 'u9999', 'w']) {
        asked = 0;
        expect(verifyReceipt(await consent.receipt(subject), consent.publicKey), subject).to.equal(true);
        // A block of 256 leaves, and the log's last, partly filled block: far fewer than 10,000.
        expect(asked, subject).to.be.within(1, 2 * 256);
      }
    } finally {
      db.knex.removeListener('query', listener);
    }
  });

  it('reads 32 zero bytes for an event gone from the middle of an entry, and the others as they are; verify() reports it', async () => {
    const at = Date.now() - 60_000;
    await consent.import(Array.from({ length: 50 }, (_, i) => ({ subjectId: `u${String(i)}`, requirement: 'a', decision: 'granted', at })));
    expect(await consent.verify()).to.deep.include({ ok: true });
    const ids = storedIds((await db.knex('consent_log').first<Row>('leaves')).leaves as Uint8Array);
    const gone = ids[20] as string;
    // Whose event it is (on PostgreSQL a batch's events are in pseudonym order).
    const { chain } = await db.knex('consent_events').where({ id: gone }).first<Row>('chain');
    const { pseudonym } = await db.knex('consent_subjects').where({ chain }).first<Row>('pseudonym');
    const owner = Array.from({ length: 50 }, (_, i) => `u${String(i)}`).find((s) => consent.engine.pseudonym(s) === Buffer.from(pseudonym as Uint8Array).toString('hex'));
    const [publicId] = (await consent.history(owner as string)).events.map((e) => e.id);
    await db.knex('consent_events').where({ id: gone }).delete();
    const [entry] = await entries();
    const leaves = entry?.leaves as Buffer;
    expect(leaves.subarray(20 * LEAF_BYTES + 8, 21 * LEAF_BYTES).equals(Buffer.alloc(32))).to.equal(true);
    expect(leaves).to.deep.equal((await expectedLeaves())[0]);
    // Its chain's head names it (truncated); the log no longer adds up to its sealed head.
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: 'log', kind: 'rollback' }, { eventId: publicId, kind: 'truncated' }]);
  });

  it('reports an entry that claims events the library never wrote, without reading them, and one naming ids that no event has, in few statements', async () => {
    await consent.record('x', { a: 'granted' });
    await consent.checkpoint();
    const huge = Buffer.alloc(13);
    huge[0] = 2;
    huge.writeBigUInt64BE(1n, 1);
    huge.writeUInt32BE(2 ** 32 - 1, 9);
    const nowhere = Buffer.concat([Buffer.from([3]), ...Array.from({ length: 12_000 }, (_, i) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(1_000_000 + 2 * i)); return b; })]);
    await db.knex('consent_log').insert([{ leaves: huge, part: 0 }, { leaves: nowhere, part: 1 }]);
    let result: Awaited<ReturnType<Consent['verify']>> | undefined;
    const statements = await statementsDuring(db.knex, /consent_events/, async () => { result = await consent.verify(); });
    expect(result?.ok).to.equal(false);
    expect(result?.problems).to.deep.include({ eventId: 'log:1', kind: 'modified' });
    // The 12,000 ids (runs of one) each time the log is read (the seal, and verify()'s two
    // passes): an aggregate and a read of rows per 4,096, not a statement per id.
    expect(statements.filter((sql) => /between/.test(sql)).length).to.be.within(1, 20);
  });

  it('reads entries stored the ways they were before (plain leaves, consecutive ids packed with their hashes) beside new ones', async () => {
    await consent.record('x', { a: 'granted', b: 'granted' });
    await consent.record('y', { a: 'denied' });
    await consent.verify();
    const [first, second] = await entries();
    const rows: Row[] = await db.knex('consent_log').orderBy([{ column: 'tx' }, { column: 'part' }]);
    // The first entry packed with its hashes (tag 1, first id, hashes), as before; the second plain.
    const plain = first?.leaves as Buffer;
    const packed = Buffer.concat([Buffer.from([0x01]), plain.subarray(0, 8), plain.subarray(8, LEAF_BYTES), plain.subarray(LEAF_BYTES + 8, 2 * LEAF_BYTES)]);
    await db.knex('consent_log').where({ tx: rows[0]?.tx, part: rows[0]?.part }).update({ leaves: packed });
    await db.knex('consent_log').where({ tx: rows[1]?.tx, part: rows[1]?.part }).update({ leaves: second?.leaves });
    await consent.record('z', { b: 'granted' });
    const read = await entries();
    expect(read.slice(0, 2)).to.deep.equal([first, second]);
    expect(read).to.have.length(3);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 4, problems: [] });
    expect(verifyReceipt(await consent.receipt('x'), consent.publicKey)).to.equal(true);
  });
});
