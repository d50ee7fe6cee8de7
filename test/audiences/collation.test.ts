import { expect } from 'chai';
import type { RequirementDefinition } from '../../lib/index';
import { testConsent, type TestDatabase } from '../helpers/consent-setup';
import { statementsDuring } from '../helpers/count-statements';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { skipBecause } from '../helpers/skip';

// Two ids that a language's collation and the characters' codes sort the other way round:
// ICU's English puts `_` before the digits, the codes (and JavaScript) after them.
const REQUIREMENTS: RequirementDefinition[] = [
  { id: 'offers_1', title: 'Offers by e-mail', description: 'Our offers, by e-mail.' },
  { id: 'offers1', title: 'Offers by post', description: 'Our offers, by post.' },
];

describePg('reads on a PostgreSQL database whose text sorts by a language', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;

  /** The statements reading current records (each subject's, in its row's `records`) that Knex sent while `step` ran. */
  const stateReads = async (step: () => Promise<void>): Promise<number> =>
    (await statementsDuring(t.knex, /"records"/, step)).length;

  /** Makes a text column sort by `collation`, its type otherwise unchanged. */
  async function collate(table: string, column: string, collation: string): Promise<void> {
    const { rows } = await t.knex.raw<{ rows: Array<{ type: string }> }>('select format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = ?::regclass and attname = ?', [table, column]);
    const type = rows[0]?.type;
    expect(type, `${table}.${column}`).to.be.a('string');
    await t.knex.raw(`alter table ?? alter column ?? type ${type as string} collate "${collation}"`, [table, column]);
  }

  beforeEach(async function () {
    const pg = await createPgDatabase();
    db = { config: pgKnexConfig(pg.url), cleanup: () => pg.drop() };
    t = await testConsent(db, {}, REQUIREMENTS);
    const { rows: icu } = await t.knex.raw<{ rows: unknown[] }>(`select 1 from pg_collation where collname = 'en-US-x-icu'`);
    // Debian's and most other builds have ICU; CI's must (it runs every PostgreSQL test).
    if (icu.length === 0 && process.env.CI !== 'true') skipBecause(this, 'this PostgreSQL has no ICU collation en-US-x-icu');
    // As in a database created with an English collation: the columns of requirement ids sort by
    // it (the records themselves are bytes in each subject row, in the ids' code order).
    await collate('consent_events', 'requirement', 'en-US-x-icu');
    await collate('consent_requirements', 'id', 'en-US-x-icu');
    const { rows } = await t.knex.raw<{ rows: Array<{ icu: boolean }> }>(`select 'offers_1' < 'offers1' collate "en-US-x-icu" as icu`);
    expect(rows[0]?.icu, 'the collation sorts the ids the other way round').to.equal(true);
    const at = new Date(Date.now() - 1000);
    await t.consent.import(Array.from({ length: 250 }, (_, i) => REQUIREMENTS.map(({ id }) => ({ subjectId: `u${String(i)}`, requirement: id, decision: 'granted', at }))).flat());
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  it('reads each audience page and each lookup once', async () => {
    const listed: string[] = [];
    const pages = await stateReads(async () => {
      for await (const id of t.consent.audience('offers1', { batchSize: 100 })) listed.push(id);
    });
    expect(listed).to.have.length(250);
    expect(pages, 'a page read again the plain way').to.equal(3);
    const ids = Array.from({ length: 250 }, (_, i) => `u${String(i)}`);
    const allowed: string[] = [];
    const lookups = await stateReads(async () => {
      for await (const id of t.consent.filterAllowed(ids, 'offers_1')) allowed.push(id);
    });
    expect(allowed).to.have.length(250);
    expect(lookups, 'a lookup read again the plain way').to.equal(1);
  });

  it('verifies the records of each page of chains in one read', async () => {
    let report: Awaited<ReturnType<typeof t.consent.verify>> | undefined;
    const reads = await stateReads(async () => {
      report = await t.consent.verify();
    });
    expect(report?.ok).to.equal(true);
    // The 250 chains fit one page of heads, whose records are one read; a page read again makes two.
    expect(reads).to.equal(1);
  });
});
