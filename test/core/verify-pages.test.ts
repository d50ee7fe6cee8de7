import { expect } from 'chai';
import type { Knex } from 'knex';
import { VERIFY_PAGE } from '../../lib/core/verify';
import { createConsent, type Consent } from '../../lib/index';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'verify-pages-secret-0123456789abcdef012345';
const REQUIREMENTS = ['a', 'b', 'c'];
// Three events per chain: the chain of event VERIFY_PAGE - 1 (0-based) spans two pages, and
// more chains than one page of heads, and more leaves than a page of log entries.
const SUBJECTS = VERIFY_PAGE + VERIFY_PAGE / 10;

interface EventRow {
  id: string;
  chain: string;
  seq: number;
}

describeEachDatabase('verify() across page boundaries (events, heads and log read one page ahead)', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;

  /** The events at `indexes` in (chain, seq) order: where the keyset pages split. */
  const eventsAt = async (indexes: number[]): Promise<EventRow[]> => {
    const rows = await Promise.all(indexes.map((i) => knex('consent_events').orderBy([{ column: 'chain' }, { column: 'seq' }]).offset(i).first('id', 'chain', 'seq')));
    // Ids and sequence numbers come back as numbers from SQLite and as strings from PostgreSQL.
    return rows.map((r: { id: string | number; chain: string; seq: string | number }) => ({ id: String(r.id), chain: r.chain, seq: Number(r.seq) }));
  };

  before(async function () {
    this.timeout(120_000);
    db = await open();
    knex = db.knex;
    consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register(REQUIREMENTS.map((id) => ({ id, title: id, description: id })));
    await consent.ready();
    function* decisions() {
      for (let s = 0; s < SUBJECTS; s += 1) {
        for (const requirement of REQUIREMENTS) yield { subjectId: `s${String(s)}`, requirement, decision: 'granted', at: 1_700_000_000_000 };
      }
    }
    await consent.import(decisions(), { batchSize: 1000 });
  });

  after(async () => {
    await consent.close();
    await db.release();
  });

  it('finds damage exactly at the page boundaries, and nothing else', async function () {
    this.timeout(60_000);
    const total = SUBJECTS * REQUIREMENTS.length;
    expect(await consent.verify()).to.deep.equal({ ok: true, checked: total, problems: [] });

    const [lastOfFirst, firstOfSecond] = await eventsAt([VERIFY_PAGE - 1, VERIFY_PAGE]);
    // A chain spans the first two pages (three events per chain, and a page size that three does
    // not divide): one of its events ends page one, the next starts page two.
    expect(VERIFY_PAGE % REQUIREMENTS.length).to.not.equal(0);
    expect(firstOfSecond!.chain).to.deep.equal(lastOfFirst!.chain);
    expect(firstOfSecond!.seq).to.equal(lastOfFirst!.seq + 1);
    await knex('consent_events').whereIn('id', [lastOfFirst!.id, firstOfSecond!.id]).update({ at: 1 });
    const [firstOfThird] = await eventsAt([2 * VERIFY_PAGE]);
    await knex('consent_events').where('id', firstOfThird!.id).delete();

    // The chain whose head opens the second page of heads: removed whole, its events are named
    // by the log.
    const heads = await knex('consent_subjects').orderBy('chain').offset(VERIFY_PAGE).limit(1).select('chain');
    const headChain = heads[0].chain as string;
    const removed = await knex('consent_events').where({ chain: headChain }).orderBy('seq').select('id');
    await knex('consent_events').where('chain', headChain).delete();
    await knex('consent_subjects').where('chain', headChain).delete();

    // What follows a deleted event names it: the next one's prevId, or the head (truncated).
    const deletedKind = firstOfThird!.seq === REQUIREMENTS.length ? 'truncated' : 'deleted';
    // Problems name events as callers see them.
    const shown = (id: unknown) => consent.engine.eventIds.encode(String(id));
    const expected = [
      ...removed.map((r: { id: unknown }) => ({ eventId: shown(r.id), kind: 'rollback' })),
      { eventId: shown(lastOfFirst!.id), kind: 'modified' },
      { eventId: shown(firstOfSecond!.id), kind: 'modified' },
      { eventId: shown(firstOfThird!.id), kind: deletedKind },
    ];
    const result = await consent.verify();
    const byId = (x: { eventId: string; kind: string }, y: { eventId: string; kind: string }) => x.eventId.localeCompare(y.eventId) || x.kind.localeCompare(y.kind);
    expect(result.ok).to.equal(false);
    expect(result.checked).to.equal(total - 1 - removed.length);
    // The log names the removed events; its entries hold ids, and a leaf's hash is its event's,
    // so the log no longer adds up to its sealed head, nor a stored block of its tree to its leaves.
    const [log, named] = [result.problems.filter((p) => p.eventId.startsWith('log')), result.problems.filter((p) => !p.eventId.startsWith('log'))];
    expect([...named].sort(byId)).to.deep.equal([...expected].sort(byId));
    expect(log).to.deep.include({ eventId: 'log', kind: 'rollback' });
    expect(log.every((p) => p.eventId === 'log' || (/^log:\d+$/.test(p.eventId) && p.kind === 'modified'))).to.equal(true, JSON.stringify(log));
  });
});

describeEachDatabase('verify() names every event of a chain removed whole, wherever the page boundaries fall', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;

  before(async function () {
    this.timeout(120_000);
    db = await open();
    knex = db.knex;
    consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register(REQUIREMENTS.map((id) => ({ id, title: id, description: id })));
    await consent.ready();
    function* decisions() {
      for (let s = 0; s < SUBJECTS; s += 1) {
        for (const requirement of REQUIREMENTS) yield { subjectId: `s${String(s)}`, requirement, decision: 'granted', at: 1_700_000_000_000 };
      }
    }
    await consent.import(decisions(), { batchSize: 1000 });
  });

  after(async () => {
    await consent.close();
    await db.release();
  });

  it('at the first and last chain, both sides of a page of heads, and across a page of events', async function () {
    this.timeout(60_000);
    const total = SUBJECTS * REQUIREMENTS.length;
    expect(await consent.verify()).to.deep.include({ ok: true, checked: total });
    const headAt = async (offset: number): Promise<Buffer> =>
      (await knex<{ chain: Buffer }>('consent_subjects').orderBy('chain').offset(offset).first('chain'))!.chain;
    // The chain of the event at `index` in (chain, seq) order: the chain spanning two pages of events.
    const eventChainAt = async (index: number): Promise<Buffer> =>
      (await knex<{ chain: Buffer }>('consent_events').orderBy([{ column: 'chain' }, { column: 'seq' }]).offset(index).first('chain'))!.chain;
    const chains = [
      await headAt(0),
      await headAt(VERIFY_PAGE - 1),
      await headAt(VERIFY_PAGE),
      await headAt(VERIFY_PAGE + 1),
      await headAt(SUBJECTS - 1),
      await eventChainAt(2 * VERIFY_PAGE),
    ];
    const distinct = [...new Map(chains.map((c) => [c.toString('hex'), c])).values()];
    expect(distinct).to.have.length(6);
    const removed: Array<{ id: unknown }> = await knex('consent_events').whereIn('chain', distinct).select('id');
    expect(removed).to.have.length(6 * REQUIREMENTS.length);
    await knex('consent_events').whereIn('chain', distinct).delete();
    // Their records go with their subject rows, which hold them.
    await knex('consent_subjects').whereIn('chain', distinct).delete();

    const shown = (id: unknown) => consent.engine.eventIds.encode(String(id));
    const result = await consent.verify();
    expect(result.ok).to.equal(false);
    expect(result.checked).to.equal(total - removed.length);
    const sort = (list: Array<{ eventId: string; kind: string }>) => [...list].sort((x, y) => x.eventId.localeCompare(y.eventId));
    // Each removed event by its id; and the log, which no longer adds up to its sealed head, nor
    // a stored block of its tree to its leaves.
    const [log, named] = [result.problems.filter((p) => p.eventId.startsWith('log')), result.problems.filter((p) => !p.eventId.startsWith('log'))];
    expect(sort(named)).to.deep.equal(sort(removed.map((r) => ({ eventId: shown(r.id), kind: 'rollback' }))));
    expect(log).to.deep.include({ eventId: 'log', kind: 'rollback' });
    expect(log.every((p) => p.eventId === 'log' || (/^log:\d+$/.test(p.eventId) && p.kind === 'modified'))).to.equal(true, JSON.stringify(log));
  });
});
