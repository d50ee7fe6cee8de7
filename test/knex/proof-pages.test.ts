import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { readJsonPage } from '../../lib/knex/json-page';
import { groupRecords, pageColumns, toHead, toLedgerEntry, type Row } from '../../lib/knex/rows';
import type { ConsentTracker } from '../../lib/tracker/tracker';
import { countStatements } from '../helpers/count-statements';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'proof-pages-secret-0123456789abcdef012345';
// The heads of a list of chains, as verify() looks them up for ledger entries.
const HEAD_LOOKUP = /consent_subjects[\s\S]* in \(/i;

/** A tracker reading the ledger without the heads' seqs, as a custom tracker may. */
function withoutHeadSeqs(tracker: KnexTracker): ConsentTracker {
  return new Proxy(tracker, {
    get(target, name, receiver) {
      if (name === 'ledger') {
        return async (query: { after?: number; limit: number }) =>
          (await target.ledger(query)).map(({ headSeq: _omitted, ...entry }) => entry);
      }
      const value: unknown = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describeEachDatabase('proof reads: heads and ledger pages', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;
  let tracker: KnexTracker;

  beforeEach(async () => {
    db = await open();
    knex = db.knex;
    tracker = new KnexTracker(knex);
    consent = createConsent({ tracker, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
    await consent.ready();
    for (let i = 0; i < 7; i += 1) await consent.record(`s${String(i)}`, { a: 'granted', b: i % 2 ? 'denied' : 'granted' });
    await consent.erase('s3');
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('reads the same heads as a plain select, page by page', async () => {
    const records = groupRecords((await knex('consent_states').orderBy(['chain', 'requirement'])) as Row[], 'chain');
    const plain = ((await knex('consent_subjects').orderBy('chain')) as Row[]).map(toHead).map((head) => ({ ...head, records: records.get(head.chain) ?? [] }));
    expect(plain.filter((head) => head.records.length > 0)).to.have.length(6, 'every subject but the erased one has records');
    const paged = [];
    for (let after: string | undefined; ;) {
      const page = await tracker.heads({ after, limit: 3 });
      paged.push(...page);
      if (page.length < 3) break;
      after = page[page.length - 1]!.chain;
    }
    expect(paged).to.deep.equal(plain);
    const some = [plain[4]!.chain, plain[1]!.chain];
    expect(await tracker.heads({ chains: some, limit: 2 })).to.deep.equal([plain[1], plain[4]]);
  });

  it('reads each ledger entry with its chain head’s seq, null once the head is gone', async () => {
    const entries = ((await knex('consent_chains').orderBy('n')) as Row[]).map(toLedgerEntry);
    const seqs = new Map((await knex<Row>('consent_subjects').select('chain', 'seq')).map((r) => [(r.chain as Buffer).toString('hex'), Number(r.seq)]));
    const gone = entries[2]!.chain;
    await knex('consent_subjects').where({ chain: Buffer.from(gone, 'hex') }).delete();
    const paged = [...(await tracker.ledger({ limit: 4 })), ...(await tracker.ledger({ after: 4, limit: 4 }))];
    expect(paged).to.deep.equal(entries.map((e) => ({ ...e, headSeq: e.chain === gone ? null : seqs.get(e.chain) })));
  });

  it('verify() looks no heads up by chain when the ledger entries carry their seqs', async () => {
    const lookups = countStatements(knex, HEAD_LOOKUP);
    expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
    lookups.stop();
    expect(lookups.n).to.equal(0);
  });

  it('verify() looks the heads up itself for a tracker whose entries lack their seqs', async () => {
    const bare = createConsent({ tracker: withoutHeadSeqs(tracker), secret: SECRET, logger: { warn() {}, error() {} } });
    bare.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
    await bare.ready();
    const lookups = countStatements(knex, HEAD_LOOKUP);
    expect(await bare.verify()).to.deep.include({ ok: true, problems: [] });
    lookups.stop();
    expect(lookups.n).to.equal(1);
    const first: Row = await knex('consent_chains').orderBy('n').offset(1).first('chain', 'first_id');
    await knex('consent_events').where({ chain: first.chain }).delete();
    await knex('consent_subjects').where({ chain: first.chain }).delete();
    // Both instances share the secret, so they name the event by the same public id.
    const expected = [{ eventId: consent.engine.eventIds.encode(String(first.first_id)), kind: 'chain_missing' }];
    expect((await bare.verify()).problems).to.deep.equal(expected);
    expect((await consent.verify()).problems).to.deep.equal(expected);
  });

  it('falls back to the plain read when the rows did not come in the order asked for', async () => {
    const query = knex('consent_subjects').orderBy('chain').limit(10);
    expect(await readJsonPage(knex, query, pageColumns(knex, ['chain']), () => false)).to.equal(null);
    const rows = await readJsonPage(knex, query, pageColumns(knex, ['chain', 'seq']), (a, b) => (a[0] as string) < (b[0] as string));
    expect(rows).to.have.length(7);
    expect(await tracker.heads({ limit: 10 })).to.have.length(7);
  });
});
