import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { scanEventPage } from '../../lib/knex/event-scan';
import { toEvent, type Row } from '../../lib/knex/rows';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const SECRET = 'event-scan-secret-0123456789abcdef0123456';
const ODD = ['quote " backslash \\ tab \t nl \n', 'ünïcödé € 😀 \u2028', '\u0001\u001f', '{"json":[1,2.5,null]}', ''];

const ctx = (knex: Knex) => ({ knex, table: (name: string) => `consent_${name}` });

/** A store with odd personal fields on every event, and one erased subject. */
async function seeded(knex: Knex): Promise<Consent> {
  const consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
  consent.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
  await consent.ready();
  for (const [i, note] of ODD.entries()) {
    await consent.record(`s${String(i)}`, { a: 'granted', b: 'denied' }, { note, data: { note, n: i } });
  }
  await consent.erase('s0');
  return consent;
}

describeEachDatabase('event pages read as one JSON array per row', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;

  beforeEach(async () => {
    db = await open();
    knex = db.knex;
    consent = await seeded(knex);
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
  });

  it('returns exactly the events of a plain select, in (chain, seq) order and across pages', async () => {
    const rows: Row[] = await knex('consent_events').orderBy([{ column: 'chain' }, { column: 'seq' }]);
    const plain = rows.map(toEvent);
    const paged = [];
    let after: { chain: string; seq: number } | undefined;
    for (;;) {
      const page = await scanEventPage(ctx(knex), { after, limit: 3 });
      paged.push(...page);
      const last = page[page.length - 1];
      if (!last || page.length < 3) break;
      after = { chain: last.chain, seq: last.seq };
    }
    expect(paged).to.have.length(ODD.length * 2 + 1);
    expect(paged).to.deep.equal(plain);
    expect(await scanEventPage(ctx(knex), { chain: plain[0]!.chain, limit: 100 })).to.deep.equal(plain.filter((e) => e.chain === plain[0]!.chain));
  });
});

// Only SQLite lets a text column hold a BLOB, which JSON cannot carry.
describe('event pages on SQLite with a BLOB written behind the library', () => {
  const file = tempSqliteFile();
  let knex: Knex;
  let consent: Consent;

  before(async () => {
    knex = knexFactory(sqliteKnexConfig(file.filename));
    consent = await seeded(knex);
  });

  after(async () => {
    await consent.close();
    await knex.destroy();
    file.remove();
  });

  it('reads a page JSON cannot carry the plain way, so verify() still names the damage', async () => {
    const rows: Row[] = await knex('consent_events').orderBy('id');
    const target = rows[1]!;
    await knex.raw('update consent_events set actor = x\'00ff\' where id = ?', [String(target.id)]);
    const page = await scanEventPage(ctx(knex), { limit: 100 });
    expect(page.find((e) => e.id === String(target.id))?.actor).to.deep.equal(Buffer.from([0, 255]));
    const result = await consent.verify();
    expect(result.problems).to.deep.equal([{ eventId: consent.engine.eventIds.encode(String(target.id)), kind: 'modified' }]);
  });
});
