import { expect } from 'chai';
import { insertStatements, runAll, upsertClause } from '../../lib/knex/bulk-sql';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const COLUMNS = ['k', 'a', 'b'] as const;

describeEachDatabase('multi-row statements (bulk-sql)', (open) => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await open();
    await db.knex.schema.createTable('bulk', (table) => {
      table.string('k', 16).primary();
      table.string('a', 64).nullable();
      table.text('b').nullable();
    });
  });
  afterEach(() => db.release());

  const stored = async () => db.knex('bulk').orderBy('k').select('k', 'a', 'b');

  it('leaves out a column that is null in every row of a statement, and stores the same rows', async () => {
    const rows = [['r1', null, null], ['r2', 'x', null], ['r3', null, "it's \\ ?"]];
    const [statement] = insertStatements(db.knex, 'bulk', COLUMNS, rows.slice(0, 1));
    expect(statement?.sql).to.match(/^insert into "bulk" \("k"\) values \('r1'\)$/);
    await db.knex.transaction((trx) => runAll(trx, insertStatements(trx, 'bulk', COLUMNS, rows)));
    expect(await stored()).to.deep.equal([
      { k: 'r1', a: null, b: null },
      { k: 'r2', a: 'x', b: null },
      { k: 'r3', a: null, b: "it's \\ ?" },
    ]);
  });

  it('an upsert of a row whose column is left out sets that column to null', async () => {
    const upsert = upsertClause(['k'], ['a', 'b']);
    await db.knex.transaction((trx) => runAll(trx, insertStatements(trx, 'bulk', COLUMNS, [['r1', 'x', 'y']], upsert)));
    await db.knex.transaction((trx) => runAll(trx, insertStatements(trx, 'bulk', COLUMNS, [['r1', null, 'z']], upsert)));
    expect(await stored()).to.deep.equal([{ k: 'r1', a: null, b: 'z' }]);
  });

  it('decides per statement: a column present in one statement may be left out of the next', async () => {
    // More rows than one statement may bind on either database, with `a` set in the first only.
    const count = 40_000;
    const rows = Array.from({ length: count }, (_, i) => [`r${String(i).padStart(5, '0')}`, i === 0 ? 'first' : null, null]);
    const statements = insertStatements(db.knex, 'bulk', COLUMNS, rows);
    expect(statements.length).to.be.greaterThan(1);
    expect(statements[0]?.sql).to.include('("k","a")');
    expect(statements[1]?.sql).to.include('("k")');
    await db.knex.transaction((trx) => runAll(trx, statements));
    const counted = await db.knex('bulk').count({ n: '*' }).first();
    expect(Number(counted?.n)).to.equal(count);
    expect(await db.knex('bulk').whereNotNull('a').select('k', 'a')).to.deep.equal([{ k: 'r00000', a: 'first' }]);
  });
});
