import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { storedIds } from '../helpers/log-rows';
import { storedRecordsOf, storeRecords } from '../helpers/records';

const SECRET = 'tamper-test-secret-0123456789abcdef0123';
const quiet = { warn() {}, error() {} };

/** An event row as the database returns it. */
interface StoredRow {
  id: string | number;
  seq: string | number;
  chain: Buffer;
}

interface Row {
  /** The stored id, for the test's own writes. */
  id: string;
  /** The id callers see (from history). */
  publicId: string;
  seq: number;
  /** The chain key as stored (bytes). */
  chain: Buffer;
}

describeEachDatabase('verify() names what was done to the history behind its back', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;
  let alice: Row[];
  let bob: Row[];

  const eventsOf = async (subject: string): Promise<Row[]> => {
    const pseudonym = consent.engine.pseudonym(subject);
    const rows = await knex('consent_events as e')
      .join('consent_subjects as s', 's.chain', 'e.chain')
      .where('s.pseudonym', Buffer.from(pseudonym, 'hex'))
      .orderBy('e.seq')
      .select('e.id', 'e.seq', 'e.chain');
    const shown = (await consent.history(subject, { limit: 200 })).events.reverse();
    expect(shown).to.have.length(rows.length);
    // Ids and sequence numbers come back as numbers from SQLite and as strings from PostgreSQL.
    return rows.map((r: StoredRow, i: number) => ({ id: String(r.id), publicId: shown[i]?.id as string, seq: Number(r.seq), chain: r.chain }));
  };
  const at = (rows: Row[], seq: number): Row => rows.find((r) => r.seq === seq) as Row;
  const sorted = (problems: Array<{ eventId: string; kind: string }>) =>
    [...problems].sort((x, y) => x.eventId.localeCompare(y.eventId) || x.kind.localeCompare(y.kind));

  beforeEach(async () => {
    db = await open();
    knex = db.knex;
    consent = createConsent({ knex, secret: SECRET, logger: quiet });
    consent.register(['a', 'b', 'c'].map((id) => ({ id, title: id, description: id })));
    await consent.ready();
    await consent.record('bob', { a: 'granted' });
    await consent.record('bob', { b: 'denied' }, { note: 'by phone' });
    await consent.record('alice', { a: 'granted', b: 'granted' }, { note: 'first', data: { form: 1 } });
    await consent.record('alice', { a: 'denied' });
    await consent.record('alice', { c: 'granted' });
    await consent.record('alice', { b: 'denied' }, { note: 'last' });
    await consent.record('carol', { c: 'granted' });
    alice = await eventsOf('alice');
    bob = await eventsOf('bob');
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('passes an untouched history, whole and per subject', async () => {
    expect(alice.map((r) => r.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(await consent.verify()).to.deep.equal({ ok: true, checked: 8, problems: [] });
    expect(await consent.verify({ subjectId: 'alice' })).to.deep.equal({ ok: true, checked: 5, problems: [] });
    expect(await consent.verify({ subjectId: 'nobody' })).to.deep.equal({ ok: true, checked: 0, problems: [] });
  });

  it('names a changed field as modified (chained field and personal field)', async () => {
    await knex('consent_events').where({ id: at(alice, 3).id }).update({ action: 'grant' });
    await knex('consent_events').where({ id: at(bob, 2).id }).update({ note: 'by letter' });
    const result = await consent.verify();
    expect(result.ok).to.equal(false);
    expect(sorted(result.problems)).to.deep.equal(sorted([
      { eventId: at(alice, 3).publicId, kind: 'modified' },
      { eventId: at(bob, 2).publicId, kind: 'modified' },
    ]));
    expect((await consent.verify({ subjectId: 'alice' })).problems).to.deep.equal([{ eventId: at(alice, 3).publicId, kind: 'modified' }]);
  });

  it('names a deleted middle event by its id, known from its successor', async () => {
    await knex('consent_events').where({ id: at(alice, 3).id }).delete();
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: at(alice, 3).publicId, kind: 'deleted' }]);
  });

  it('names a deleted last event as truncated, known from the sealed head', async () => {
    await knex('consent_events').where({ id: at(alice, 5).id }).delete();
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: at(alice, 5).publicId, kind: 'truncated' }]);
  });

  it('catches a head rewound to hide a truncation', async () => {
    const previous = await knex('consent_events').where({ id: at(alice, 4).id }).first();
    await knex('consent_events').where({ id: at(alice, 5).id }).delete();
    await knex('consent_subjects').where({ chain: previous.chain }).update({ head_id: previous.id });
    const { problems } = await consent.verify();
    // The head names event 4 now; the log still names the deleted event 5.
    expect(sorted(problems)).to.deep.equal(sorted([{ eventId: at(alice, 4).publicId, kind: 'truncated' }, { eventId: at(alice, 5).publicId, kind: 'rollback' }]));
  });

  it('names a forged event as inserted', async () => {
    const last = await knex('consent_events').where({ id: at(alice, 5).id }).first();
    const forgedId = String(Number(last.id) + 1000);
    await knex('consent_events').insert({ ...last, id: forgedId, seq: 6, action: 'grant', state: 'granted', prev_id: last.id });
    const forged = at(await eventsOf('alice'), 6);
    expect(forged.id).to.equal(forgedId);
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: forged.publicId, kind: 'inserted' }]);
  });

  // Exchanging two ids moves both events in id order (the admin listings' order) without
  // touching their seq: each is named, by the id it now carries.
  for (const [x, y, where] of [[2, 4, 'apart'], [3, 4, 'adjacent'], [1, 5, 'at both ends']] as const) {
    it(`names both events of a chain whose ids were exchanged as reordered (${where})`, async () => {
      const [first, second] = [at(alice, x), at(alice, y)];
      await knex('consent_events').where({ id: first.id }).update({ id: '999999' });
      await knex('consent_events').where({ id: second.id }).update({ id: first.id });
      await knex('consent_events').where({ id: '999999' }).update({ id: second.id });
      // What callers see now: seq x carries the id that was y's, and y the one that was x's.
      const shown = await eventsOf('alice');
      expect([at(shown, x).publicId, at(shown, y).publicId]).to.deep.equal([second.publicId, first.publicId]);
      const expected = [{ eventId: second.publicId, kind: 'reordered' }, { eventId: first.publicId, kind: 'reordered' }];
      expect((await consent.verify()).problems).to.deep.equal(expected);
      expect((await consent.verify({ subjectId: 'alice' })).problems).to.deep.equal(expected);
    });
  }

  it('names an event given an id no event of its chain had as modified', async () => {
    const third = at(alice, 3);
    const other = at(bob, 1);
    await knex('consent_events').where({ id: third.id }).update({ id: String(Number(third.id) + 1000) });
    const renamed = at(await eventsOf('alice'), 3);
    expect((await consent.verify({ subjectId: 'alice' })).problems).to.deep.equal([{ eventId: renamed.publicId, kind: 'modified' }]);
    // Two chains exchanging one id each is no reordering within a chain: both were modified.
    await knex('consent_events').where({ id: renamed.id }).update({ id: third.id });
    const [a, b] = [at(alice, 2), other];
    await knex('consent_events').where({ id: a.id }).update({ id: '999999' });
    await knex('consent_events').where({ id: b.id }).update({ id: a.id });
    await knex('consent_events').where({ id: '999999' }).update({ id: b.id });
    expect(sorted((await consent.verify()).problems)).to.deep.equal(sorted([
      { eventId: b.publicId, kind: 'modified' },
      { eventId: a.publicId, kind: 'modified' },
    ]));
  });

  it('names both events of a swapped pair as reordered', async () => {
    const [two, three] = [at(alice, 2), at(alice, 3)];
    await knex('consent_events').where({ id: two.id }).update({ seq: -1 });
    await knex('consent_events').where({ id: three.id }).update({ seq: 2 });
    await knex('consent_events').where({ id: two.id }).update({ seq: 3 });
    expect(sorted((await consent.verify()).problems)).to.deep.equal(sorted([
      { eventId: two.publicId, kind: 'reordered' },
      { eventId: three.publicId, kind: 'reordered' },
    ]));
  });

  it('names every event of a whole removed chain as rolled back, through the global log', async () => {
    const chain = at(bob, 1).chain;
    await knex('consent_events').where({ chain }).delete();
    await knex('consent_subjects').where({ chain }).delete();
    expect(sorted((await consent.verify()).problems)).to.deep.equal(sorted(bob.map((r) => ({ eventId: r.publicId, kind: 'rollback' }))));
  });

  it('still catches a removed chain whose log entries were removed too: the sealed log no longer adds up', async () => {
    const chain = at(bob, 1).chain;
    const ids = bob.map((r) => r.id);
    // Sealed first: entries not sealed yet are not protected (see SECURITY.md).
    expect(await consent.verify()).to.deep.include({ ok: true });
    await knex('consent_events').where({ chain }).delete();
    await knex('consent_subjects').where({ chain }).delete();
    // Each of bob's writes was a transaction of its own: its log entry holds only its events.
    const entries: Array<{ tx: unknown; part: unknown; leaves: Buffer }> = await knex('consent_log').select('tx', 'part', 'leaves');
    const bobs = entries.filter((e) => ids.includes(storedIds(e.leaves)[0] as string));
    expect(bobs).to.have.length(2);
    for (const e of bobs) await knex('consent_log').where({ tx: e.tx, part: e.part }).delete();
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: 'log', kind: 'rollback' }]);
  });

  it('names a log entry that bytes were added to', async () => {
    expect(await consent.verify()).to.deep.include({ ok: true });
    const entries: Array<{ tx: unknown; part: unknown; leaves: Buffer }> = await knex('consent_log').select('tx', 'part', 'leaves').orderBy(['tx', 'part']);
    const first = entries[0] as { tx: unknown; part: unknown; leaves: Buffer };
    // Stored plain (40-byte leaves, as earlier releases could) and with 20 bytes more: the whole leaves still hash as before.
    const [read] = await consent.engine.tracker.logEntries({ limit: 1 });
    const plain = Buffer.from(read?.leaves as Buffer);
    await knex('consent_log').where({ tx: first.tx, part: first.part }).update({ leaves: Buffer.concat([plain, Buffer.alloc(20, 7)]) });
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: 'log:0', kind: 'modified' }]);
    await knex('consent_log').where({ tx: first.tx, part: first.part }).update({ leaves: plain });
    expect(await consent.verify()).to.deep.include({ ok: true });
  });

  it('names the events of a chain emptied and reset to look untouched', async () => {
    const chain = at(bob, 1).chain;
    expect(await storedRecordsOf(knex, chain)).to.have.length(2, 'his records, which go with his events');
    await knex('consent_events').where({ chain }).delete();
    await storeRecords(knex, chain, []);
    await knex('consent_subjects').where({ chain }).update({ head_id: null, head_mac: Buffer.alloc(0) });
    expect(sorted((await consent.verify()).problems)).to.deep.equal(sorted(bob.map((r) => ({ eventId: r.publicId, kind: 'rollback' }))));
  });

  it('catches a sealed head of the log changed or replaced without the secret, and writes go on', async () => {
    expect(await consent.verify()).to.deep.include({ ok: true });
    const row = (await knex('consent_meta').where({ key: 'log' }).first()) as { value: string };
    const head = JSON.parse(row.value) as { size: number; root: string };
    // A shorter log claimed: the head no longer carries its seal.
    await knex('consent_meta').where({ key: 'log' }).update({ value: JSON.stringify({ ...head, size: head.size - 1 }) });
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: 'log', kind: 'rollback' }]);
    await knex('consent_meta').where({ key: 'log' }).update({ value: 'not json' });
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: 'log', kind: 'rollback' }]);
    await consent.record('dave', { a: 'granted' });
    expect((await consent.history('dave')).events).to.have.length(1);
    expect((await consent.checkpoint().catch((e: unknown) => e))).to.include({ code: 'store_unavailable' });
    await knex('consent_meta').where({ key: 'log' }).update({ value: row.value });
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 9 });
  });
});
