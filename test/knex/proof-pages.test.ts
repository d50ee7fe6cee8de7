import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { headColumns, joinHead } from '../../lib/knex/head-rows';
import { readJsonPage } from '../../lib/knex/json-page';
import { encodeLeaves } from '../../lib/audit/log-leaf';
import { pageColumns, toHead, type Row } from '../../lib/knex/rows';
import { countStatements } from '../helpers/count-statements';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { storedIds } from '../helpers/log-rows';
import { storedRecordsOf } from '../helpers/records';

const SECRET = 'proof-pages-secret-0123456789abcdef012345';
// Heads looked up by a list of chains: verify() reads them in chain order only.
const HEAD_LOOKUP = /consent_subjects[\s\S]* in \(/i;

describeEachDatabase('proof reads: heads and log pages', (open) => {
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
    const subjects = joinHead(knex('consent_subjects'), 'consent_events', 'consent_subjects').select('consent_subjects.*', headColumns());
    const rows: Row[] = await subjects.orderBy('consent_subjects.chain');
    const sealedSubject = (row: Row): string | null => (row.sealed_subject === null ? null : Buffer.from(row.sealed_subject as Uint8Array).toString('hex'));
    // Each subject's records, as its own row holds them.
    const plain = [];
    for (const row of rows) plain.push({ ...toHead(row), records: await storedRecordsOf(knex, row.chain as Buffer), sealedSubject: sealedSubject(row) });
    expect(plain.filter((head) => head.sealedSubject !== null)).to.have.length(6, 'every subject but the erased one has its id stored');
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

  it('reads the log entries page by page in sealing order: one per write, its events in order', async () => {
    // Each leaf is the event's id and its hash as the events table holds it.
    const hashes = new Map((await knex('consent_events').select<Row[]>('id', 'hash')).map((r) => [String(r.id), Buffer.from(r.hash as Uint8Array).toString('hex')]));
    const stored: Row[] = await knex('consent_log').orderBy([{ column: 'tx' }, { column: 'part' }]);
    const plain = stored.map((r) => ({
      key: `${String(r.tx)}:${String(r.part)}`,
      leaves: encodeLeaves(storedIds(r.leaves as Uint8Array).map((id) => ({ id, hash: hashes.get(id) as string }))),
    }));
    // Seven writes of two events, and the erasure's one.
    expect(plain.map((e) => e.leaves.length / 40)).to.deep.equal([2, 2, 2, 2, 2, 2, 2, 1]);
    // Stored as the first id and the count (the ids follow each other): 13 bytes, however many events.
    expect(stored.map((r) => (r.leaves as Uint8Array).length)).to.deep.equal([13, 13, 13, 13, 13, 13, 13, 13]);
    const paged = [];
    for (let after: string | undefined; ;) {
      const page = await tracker.logEntries({ after, limit: 3 });
      paged.push(...page);
      if (page.length < 3) break;
      after = page[page.length - 1]!.key;
    }
    expect(paged).to.deep.equal(plain);
  });

  it('verify() reads the heads in chain order, never by lists of chains', async () => {
    const lookups = countStatements(knex, HEAD_LOOKUP);
    expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
    lookups.stop();
    expect(lookups.n).to.equal(0);
  });

  it('falls back to the plain read when the rows did not come in the order asked for', async () => {
    const query = knex('consent_subjects').orderBy('chain').limit(10);
    expect(await readJsonPage({ knex }, query, pageColumns(knex, ['chain']), () => false)).to.equal(null);
    const rows = await readJsonPage({ knex }, query, pageColumns(knex, ['chain', 'head_id']), (a, b) => (a[0] as string) < (b[0] as string));
    expect(rows).to.have.length(7);
    expect(await tracker.heads({ limit: 10 })).to.have.length(7);
  });
});
