import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'tamper-test-secret-0123456789abcdef0123';
const quiet = { warn() {}, error() {} };

interface Row {
  id: string;
  seq: number;
  chain: string;
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
      .where('s.pseudonym', pseudonym)
      .orderBy('e.seq')
      .select('e.id', 'e.seq', 'e.chain');
    return rows.map((r: Row) => ({ id: String(r.id), seq: Number(r.seq), chain: r.chain }));
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
      { eventId: at(alice, 3).id, kind: 'modified' },
      { eventId: at(bob, 2).id, kind: 'modified' },
    ]));
    expect((await consent.verify({ subjectId: 'alice' })).problems).to.deep.equal([{ eventId: at(alice, 3).id, kind: 'modified' }]);
  });

  it('names a deleted middle event by its id, known from its successor', async () => {
    await knex('consent_events').where({ id: at(alice, 3).id }).delete();
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: at(alice, 3).id, kind: 'deleted' }]);
  });

  it('names a deleted last event as truncated, known from the sealed head', async () => {
    await knex('consent_events').where({ id: at(alice, 5).id }).delete();
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: at(alice, 5).id, kind: 'truncated' }]);
  });

  it('catches a head rewound to hide a truncation', async () => {
    const previous = await knex('consent_events').where({ id: at(alice, 4).id }).first();
    await knex('consent_events').where({ id: at(alice, 5).id }).delete();
    await knex('consent_subjects').where({ chain: previous.chain }).update({ seq: 4, head_hash: previous.hash, head_id: previous.id });
    const { problems } = await consent.verify();
    expect(problems.map((p) => p.kind)).to.deep.equal(['truncated']);
  });

  it('names a forged event as inserted', async () => {
    const last = await knex('consent_events').where({ id: at(alice, 5).id }).first();
    const forgedId = String(Number(last.id) + 1000);
    await knex('consent_events').insert({ ...last, id: forgedId, seq: 6, action: 'grant', state: 'granted', prev_id: last.id, prev_hash: last.hash });
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: forgedId, kind: 'inserted' }]);
  });

  it('names both events of a swapped pair as reordered', async () => {
    const [two, three] = [at(alice, 2), at(alice, 3)];
    await knex('consent_events').where({ id: two.id }).update({ seq: -1 });
    await knex('consent_events').where({ id: three.id }).update({ seq: 2 });
    await knex('consent_events').where({ id: two.id }).update({ seq: 3 });
    expect(sorted((await consent.verify()).problems)).to.deep.equal(sorted([
      { eventId: two.id, kind: 'reordered' },
      { eventId: three.id, kind: 'reordered' },
    ]));
  });

  it('names a whole removed chain by its first event, through the ledger of chains', async () => {
    const chain = at(bob, 1).chain;
    await knex('consent_events').where({ chain }).delete();
    await knex('consent_subjects').where({ chain }).delete();
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: at(bob, 1).id, kind: 'chain_missing' }]);
  });

  it('still names a removed chain whose ledger entry was removed too', async () => {
    const chain = at(bob, 1).chain;
    await knex('consent_events').where({ chain }).delete();
    await knex('consent_subjects').where({ chain }).delete();
    await knex('consent_chains').where({ chain }).delete();
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: at(bob, 1).id, kind: 'chain_missing' }]);
  });

  it('names a chain emptied and reset to look untouched', async () => {
    const chain = at(bob, 1).chain;
    await knex('consent_events').where({ chain }).delete();
    await knex('consent_subjects').where({ chain }).update({ seq: 0, head_hash: '0'.repeat(64), head_id: null, head_mac: '' });
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: at(bob, 1).id, kind: 'chain_missing' }]);
  });

  it('names the newest chain when it and its ledger entry were removed', async () => {
    const carol = await eventsOf('carol');
    const chain = at(carol, 1).chain;
    await knex('consent_events').where({ chain }).delete();
    await knex('consent_subjects').where({ chain }).delete();
    await knex('consent_chains').where({ chain }).delete();
    expect((await consent.verify()).problems).to.deep.equal([{ eventId: at(carol, 1).id, kind: 'chain_missing' }]);
  });
});
