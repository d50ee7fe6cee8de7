import { expect } from 'chai';
import { bytesList, HexBytes, insertStatements, runAll, upsertClause } from '../../lib/knex/bulk-sql';
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

  it('stores bytes given as hex as the bytes a Buffer of them holds, written as literals', async () => {
    await db.knex.schema.createTable('bulk_bytes', (table) => {
      table.string('k', 16).primary();
      table.binary('v').nullable();
    });
    const digest = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const [statement] = insertStatements(db.knex, 'bulk_bytes', ['k', 'v'], [['hex', new HexBytes(digest)], ['empty', new HexBytes('')]]);
    expect(statement?.bindings).to.deep.equal([]);
    // Not lowercase hex: bound, as the bytes a Buffer made from it holds.
    const odd = ['A1B2', 'abc', "ab'; drop table bulk_bytes; --"];
    const [bound] = insertStatements(db.knex, 'bulk_bytes', ['k', 'v'], odd.map((hex, i) => [`odd${String(i)}`, new HexBytes(hex)]));
    expect(bound?.bindings).to.have.length(3);
    await db.knex.transaction(async (trx) => {
      await runAll(trx, [statement as { sql: string; bindings: unknown[] }, bound as { sql: string; bindings: unknown[] }]);
    });
    const stored = await db.knex('bulk_bytes').orderBy('k').select('k', 'v');
    const expected = [['empty', ''], ['hex', digest], ...odd.map((hex, i) => [`odd${String(i)}`, hex] as const)]
      .map(([k, hex]) => ({ k, v: Buffer.from(hex, 'hex') }))
      .sort((x, y) => (x.k < y.k ? -1 : 1));
    expect(stored.map((row: { k: string; v: Uint8Array }) => ({ k: row.k, v: Buffer.from(row.v) }))).to.deep.equal(expected);
  });

  it('an IN list of bytes finds the same rows whether every value is lowercase hex or some are bound', async () => {
    await db.knex.schema.createTable('blobs', (table) => {
      table.binary('v').notNullable();
    });
    const values = ['00ff', 'abcdef01', '1234', '', 'deadbeef'];
    await db.knex('blobs').insert(values.map((v) => ({ v: Buffer.from(v, 'hex') })));
    const found = async (hexes: string[]): Promise<string[]> => {
      const list = bytesList(db.knex, hexes);
      const rows = await db.knex<{ v: Buffer }>('blobs').whereRaw(`v in ${list.sql}`, list.bindings).select('v');
      return rows.map((r) => Buffer.from(r.v).toString('hex')).sort();
    };
    const lower = bytesList(db.knex, ['00ff', 'abcdef01']);
    expect(lower.bindings).to.deep.equal([]);
    expect(await found(['00ff', 'abcdef01', '00ff', '9999'])).to.deep.equal(['00ff', 'abcdef01']);
    // Upper case, odd lengths and other characters are bound as the bytes Buffer.from reads.
    const mixed = bytesList(db.knex, ['00FF', 'abcdef01', '123', "12'"]);
    expect(mixed.bindings).to.have.length(3);
    expect(await found(['00FF', 'abcdef01', '12345', "12'"])).to.deep.equal(['00ff', '1234', 'abcdef01']);
  });
});
