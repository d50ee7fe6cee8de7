import { expect } from 'chai';
import { StatementPipeline } from '../../lib/knex/statement-pipeline';
import knexFactory, { type Knex } from 'knex';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

/** A statement inserting rows `from` to `from + count - 1`, its values written in its text. */
const insert = (from: number, count: number) => ({
  sql: `insert into pipeline_rows (id, label) values ${Array.from({ length: count }, (_, i) => `(${String(from + i)}, 'row ${String(from + i)}')`).join(', ')}`,
  bindings: [],
});

describeEachDatabase('a statement pipeline on a transaction', (open) => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await open();
    await db.knex.schema.createTable('pipeline_rows', (t) => {
      t.integer('id').primary();
      t.string('label');
    });
  });
  afterEach(() => db.release());

  it('runs every statement it was given, in slices and at once, before the commit', async () => {
    const seen: string[] = [];
    const listener = (query: { sql: string }) => {
      if (/pipeline_rows/.test(query.sql)) seen.push(query.sql);
    };
    db.knex.on('query', listener);
    await db.knex.transaction(async (trx) => {
      const pipeline = new StatementPipeline(trx);
      for (let slice = 0; slice < 40; slice += 1) {
        pipeline.push([insert(slice * 50, 50)]);
        if (slice % 10 === 9) await pipeline.turn();
      }
      pipeline.push([{ sql: 'insert into pipeline_rows (id, label) values (?, ?)', bindings: [5000, 'bound'] }]);
      await pipeline.drain();
    });
    db.knex.off('query', listener);
    // Knex's query listeners see every statement, however it went to the database.
    expect(seen).to.have.length(41);
    expect(seen[40]).to.match(/^insert into pipeline_rows \(id, label\) values \((\?|\$1), (\?|\$2)\)$/);
    const rows: Array<{ n: number | string }> = await db.knex('pipeline_rows').count({ n: '*' });
    expect(Number(rows[0]?.n)).to.equal(2001);
    expect(await db.knex('pipeline_rows').where({ id: 5000 }).first('label')).to.deep.equal({ label: 'bound' });
  });

  it('runs nothing queued after a failed statement, reports that failure, and leaves nothing once rolled back', async () => {
    const seen: { rows: { first: number; after: number } | null } = { rows: null };
    const failure = await db.knex
      .transaction(async (trx) => {
        const pipeline = new StatementPipeline(trx);
        pipeline.push([insert(0, 10), insert(5, 1), { sql: 'insert into no_such_table (id) values (1)', bindings: [] }]);
        pipeline.push([insert(100, 10)]);
        try {
          await pipeline.drain();
        } finally {
          await pipeline.settle();
          const count = async (from: number, to: number) => {
            const rows: Array<{ n: number | string }> = await trx('pipeline_rows').whereBetween('id', [from, to]).count({ n: '*' });
            return Number(rows[0]?.n);
          };
          // PostgreSQL refuses every statement of a transaction after a failed one.
          if (!/pg|postgres/.test(String(db.knex.client.config.client))) seen.rows = { first: await count(0, 9), after: await count(100, 109) };
        }
      })
      .then(
        () => null,
        (error: unknown) => error as Error,
      );
    // The duplicate key of row 5 is what drain() reports; the statements queued after it never ran.
    expect(failure?.message).to.match(/unique|duplicate/i);
    if (seen.rows !== null) expect(seen.rows).to.deep.equal({ first: 10, after: 0 });
    const rows: Array<{ n: number | string }> = await db.knex('pipeline_rows').count({ n: '*' });
    expect(Number(rows[0]?.n)).to.equal(0);
  });
  it('runs nothing of a later turn once an earlier statement failed', async () => {
    const after: { rows: number | null } = { rows: null };
    const failure = await db.knex
      .transaction(async (trx) => {
        const pipeline = new StatementPipeline(trx);
        pipeline.push([insert(0, 10), insert(5, 1)]);
        await pipeline.turn();
        pipeline.push([insert(100, 10)]);
        await pipeline.turn();
        try {
          await pipeline.drain();
        } finally {
          await pipeline.settle();
          if (!/pg|postgres/.test(String(db.knex.client.config.client))) {
            const rows: Array<{ n: number | string }> = await trx('pipeline_rows').where('id', '>=', 100).count({ n: '*' });
            after.rows = Number(rows[0]?.n);
          }
        }
      })
      .then(
        () => null,
        (error: unknown) => error as Error,
      );
    expect(failure?.message).to.match(/unique|duplicate/i);
    if (after.rows !== null) expect(after.rows).to.equal(0);
  });

}, { betterSqlite: true });

// PostgreSQL refuses U+0000 in text whichever way it is sent: this is about SQLite's scripts.
for (const client of ['sqlite3', 'better-sqlite3'] as const) {
  describe(`a statement pipeline on SQLite (${client})`, () => {
    let file: ReturnType<typeof tempSqliteFile>;
    let db: { knex: Knex };
    beforeEach(async () => {
      file = tempSqliteFile();
      db = { knex: knexFactory({ ...sqliteKnexConfig(file.filename), client }) };
      await db.knex.schema.createTable('pipeline_rows', (t) => {
        t.integer('id').primary();
        t.string('label');
      });
    });
    afterEach(async () => {
      await db.knex.destroy();
      file.remove();
    });
    it('stores what binding would for values a script cannot carry (U+0000 in text), in order with the rest', async () => {
      await db.knex.transaction(async (trx) => {
        const pipeline = new StatementPipeline(trx);
        pipeline.push([insert(0, 2), { sql: 'insert into pipeline_rows (id, label) values (?, ?)', bindings: [10, 'a\u0000b'] }, insert(20, 2)]);
        pipeline.push([{ sql: "update pipeline_rows set label = label || ? where id = 20", bindings: ["'quoted' \\ é"] }]);
        await pipeline.drain();
      });
      const rows: Array<{ id: number; label: string }> = await db.knex('pipeline_rows').orderBy('id').select('id', 'label');
      expect(rows).to.deep.equal([
        { id: 0, label: 'row 0' }, { id: 1, label: 'row 1' }, { id: 10, label: 'a\u0000b' },
        { id: 20, label: "row 20'quoted' \\ é" }, { id: 21, label: 'row 21' },
      ]);
    });
  });
}
