import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { allStoredRecords } from '../helpers/records';

const SECRET = 'erase-test-secret-0123456789abcdef012345';
const SUBJECT = 'subject-7f3a-erase-me';
const NOTE = 'called support about ticket 4711';
const DATA = { ticket: 'T-99812', channel: 'phone-line-3' };
const IP = '198.51.100.0';
const UA = 'ErasureTestAgent/9.1';
const ACTOR = 'support-agent-jane-q-public';
const quiet = { warn() {}, error() {} };

describeEachDatabase('erase() (Art. 17)', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;

  const tables = async (): Promise<string[]> => {
    const rows: Array<{ name?: string; tablename?: string }> = db.knex.client.config.client === 'pg'
      ? (await knex.raw("select tablename from pg_tables where schemaname = 'public'")).rows
      : await knex('sqlite_master').where({ type: 'table' }).select('name');
    return rows.map((r) => (r.name ?? r.tablename) as string).filter((name) => name.startsWith('consent_'));
  };
  const dump = async (): Promise<string> => {
    const out: unknown[] = [];
    for (const table of await tables()) out.push(await knex(table).select());
    // Digests, pseudonyms and chain keys are stored as bytes: dumped as hex, as they are handled.
    return JSON.stringify(out, (_key, value: unknown) =>
      typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer'
        ? Buffer.from((value as { data: number[] }).data).toString('hex')
        : value);
  };
  const counts = async () =>
    ((await knex('consent_events').select('requirement', 'action').count({ n: '*' }).groupBy('requirement', 'action')
      .orderBy(['requirement', 'action'])) as Array<{ requirement: string; action: string; n: unknown }>)
      .map((r) => `${r.requirement}/${r.action}=${String(Number(r.n))}`);

  beforeEach(async () => {
    db = await open();
    knex = db.knex;
    consent = createConsent({ knex, secret: SECRET, logger: quiet });
    consent.register([
      { id: 'a', title: 'A', description: 'A' },
      { id: 'b', title: 'B', description: 'B', doubleOptIn: true },
    ]);
    await consent.ready();
    await consent.engine.record(SUBJECT, { a: 'granted', b: 'granted' }, { note: NOTE, data: DATA }, { ip: IP, userAgent: UA });
    await consent.record(SUBJECT, { a: 'denied' }, { actor: ACTOR });
    await consent.record('someone-else', { a: 'granted' }, { note: 'kept' });
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('leaves no link, note, data, actor or network detail, and the history still verifies', async () => {
    const pseudonym = consent.engine.pseudonym(SUBJECT);
    const before = await dump();
    for (const needle of [pseudonym, NOTE, DATA.ticket, IP, UA, ACTOR]) expect(before).to.contain(needle);
    expect((await allStoredRecords(knex)).filter((r) => r.pendingToken !== null), 'b awaits its confirmation').to.have.length(1);
    expect((await consent.states(SUBJECT)).a?.state).to.equal('denied', 'cached before the erasure');
    expect(await consent.erase(SUBJECT)).to.deep.equal({ events: 3 });
    const after = await dump();
    for (const needle of [SUBJECT, pseudonym, NOTE, DATA.ticket, DATA.channel, IP, UA, ACTOR]) expect(after).to.not.contain(needle);
    expect(after).to.contain('kept', 'other subjects are untouched');
    // In no record (each subject's, in its row).
    expect((await allStoredRecords(knex)).filter((r) => r.pendingToken !== null)).to.deep.equal([], 'no pending token survives');
    expect(await consent.verify()).to.deep.equal({ ok: true, checked: 5, problems: [] });
  });

  it('leaves no digest that matches another row, and keeps nothing of the subject in memory', async () => {
    // Another person with exactly the same personal fields, from the same network.
    await consent.engine.record('twin', { a: 'granted' }, { note: NOTE, data: DATA }, { ip: IP, userAgent: UA });
    const digests = async () => (await knex('consent_events').whereNotNull('personal_digest').select('chain', 'personal_digest', 'personal_salt'))
      .map((row: { chain: Buffer; personal_digest: Buffer; personal_salt: Buffer | null }) => ({
        chain: row.chain.toString('hex'), digest: row.personal_digest.toString('hex'), salted: row.personal_salt !== null,
      }));
    const before = await digests();
    // One write's events share a salt; the twin's write and the subject's have the same fields.
    const chainsOf = (list: typeof before, digest: string) => new Set(list.filter((d) => d.digest === digest).map((d) => d.chain));
    for (const { digest } of before) expect(chainsOf(before, digest).size).to.equal(1, 'equal fields, different digests');
    expect(before.every((d) => d.salted)).to.equal(true);
    const pseudonym = consent.engine.pseudonym(SUBJECT);
    const erased = await knex('consent_subjects').where({ pseudonym: Buffer.from(pseudonym, 'hex') }).first('chain');
    await consent.erase(SUBJECT);
    const after = await digests();
    const chain = (erased.chain as Buffer).toString('hex');
    const left = after.filter((d) => d.chain === chain);
    // The three events that had personal fields; the erase event has none (nobody asked by name).
    expect(left).to.have.length(3);
    expect(left.every((d) => !d.salted)).to.equal(true, 'the salt goes with the fields');
    for (const { digest } of left) expect([...chainsOf(after, digest)]).to.deep.equal([chain]);
    // The pseudonyms the guard remembers by subject id (memory only) forget it too.
    const remembered = (consent.engine as unknown as { pseudonyms: { current: Map<string, unknown>; previous: Map<string, unknown> } }).pseudonyms;
    expect([...remembered.current.keys(), ...remembered.previous.keys()]).to.not.include(SUBJECT);
    expect(await consent.verify()).to.deep.include({ ok: true });
  });

  it('keeps the counts per requirement, action and day, and records that an erasure happened', async () => {
    const before = await counts();
    const days = async () => (await knex('consent_events').whereNot({ action: 'erase' }).select('at')).map((r) => new Date(Number(r.at)).toISOString().slice(0, 10)).sort();
    const daysBefore = await days();
    await consent.erase(SUBJECT);
    expect((await counts()).filter((c) => !c.includes('/erase='))).to.deep.equal(before);
    expect((await counts()).filter((c) => c.includes('/erase='))).to.deep.equal(['*/erase=1']);
    expect(await days()).to.deep.equal(daysBefore);
  });

  it('starts the subject afresh as unset, on a new chain that verifies too', async () => {
    await consent.erase(SUBJECT);
    const states = await consent.states(SUBJECT);
    expect(Object.values(states).map((s) => s.state)).to.deep.equal(['unset', 'unset']);
    expect((await consent.history(SUBJECT)).events).to.deep.equal([]);
    expect((await consent.export(SUBJECT)).events).to.deep.equal([]);
    expect((await consent.receipt(SUBJECT)).decisions).to.deep.equal([]);
    await consent.record(SUBJECT, { a: 'granted' });
    expect((await consent.history(SUBJECT)).events.map((e) => e.action)).to.deep.equal(['grant']);
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 6 });
    expect(await consent.verify({ subjectId: SUBJECT })).to.deep.equal({ ok: true, checked: 1, problems: [] });
    expect(await consent.erase('never-seen')).to.deep.equal({ events: 0 });
  });

  it('still catches tampering with an erased chain', async () => {
    await consent.erase(SUBJECT);
    const erased = await knex('consent_subjects').whereNotNull('erased_at').first();
    const event = await knex('consent_events').where({ chain: erased.chain, seq: 1 }).first();
    await knex('consent_events').where({ id: event.id }).update({ note: 'put back' });
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: consent.engine.eventIds.encode(String(event.id)), kind: 'modified' }]);
    const withActor = await knex('consent_events').where({ chain: erased.chain, seq: 2 }).first();
    await knex('consent_events').where({ id: withActor.id }).update({ actor: ACTOR });
    expect((await consent.verify()).problems).to.deep.include({ eventId: consent.engine.eventIds.encode(String(withActor.id)), kind: 'modified' });
  });

  it('accepts a salt an earlier release left on an erased chain, and catches one changed or removed on a live chain', async () => {
    await consent.erase(SUBJECT);
    const erased = await knex('consent_subjects').whereNotNull('erased_at').first('chain');
    const [redacted] = await knex('consent_events').where({ chain: erased.chain }).whereNotNull('personal_digest').orderBy('seq').select('id');
    await knex('consent_events').where({ id: redacted.id }).update({ personal_salt: Buffer.alloc(16, 9) });
    expect(await consent.verify()).to.deep.include({ ok: true });
    const [salted] = await knex('consent_events').whereNotNull('personal_salt').whereNot({ chain: erased.chain }).orderBy('id').select('id');
    for (const salt of [Buffer.alloc(16, 1), null]) {
      await knex('consent_events').where({ id: salted.id }).update({ personal_salt: salt });
      expect((await consent.verify()).problems).to.deep.include({ eventId: consent.engine.eventIds.encode(String(salted.id)), kind: 'modified' });
    }
  });
});
