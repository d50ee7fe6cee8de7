import type { Knex } from 'knex';
import { AUDIENCE_HEX_AT, lowerHexAt, snapshotsOfRows } from '../tracker/audience-rows';
import type { SubjectSnapshot } from '../tracker/records';
import { LOOKUP_COLUMNS } from './audience-queries';
import type { Outcome } from './coalescer';
import { headColumns, joinHead } from './head-rows';
import { isPostgres } from './migrate';
import { bytes } from './row-codec';
import { pageColumns, rawRows, snapshotsByPseudonym } from './rows';
import type { TableContext } from './table-context';

/**
 * SQLite's JSON functions' refusal of a value they cannot carry (a BLOB written behind the
 * library's back), by its message, which Knex may precede with the statement's text.
 */
const isJsonFailure = (error: unknown): boolean => /malformed JSON|JSON cannot hold BLOB values/.test(String((error as { message?: unknown } | null)?.message));

/**
 * The guard's reads on a cache miss: the heads and records of the pseudonyms asked together, in
 * one statement, compiled once per number of pseudonyms.
 *
 * On SQLite the statement gives its rows as one JSON text: the `sqlite3` driver builds an object
 * per row, with a Buffer per byte column, on the main thread, which took several times what the
 * rest of a lookup there costs (`better-sqlite3`, synchronous, paid the same on the same thread).
 *
 * JSON reads some values otherwise than the plain statement does: SQLite takes a BLOB given to
 * its JSON functions as JSONB (x'00' is null, x'77' and text that text), and `sqlite3`'s SQLite
 * prints a REAL with 15 digits. Every value still goes to the head's seal, which covers them all:
 * one read otherwise than it is stored either fails the seal, or reads as the sealed value and
 * changes nothing a read reports. Bytes, the records among them, are selected as hex text. A
 * batch whose text is not JSON is read the plain way; any other failure is the store's, and is
 * not tried twice.
 */
export class CurrentReads {
  private readonly plain = new Map<number, string>();
  private readonly json = new Map<number, string>();
  private readonly asJson: boolean;

  constructor(private readonly ctx: TableContext & { readonly knex: Knex }) {
    this.asJson = !isPostgres(ctx.knex);
  }

  /** The snapshot of each pseudonym (null for one not stored), in the order asked. */
  async read(pseudonyms: string[]): Promise<Outcome<SubjectSnapshot | null>[]> {
    const unique = [...new Set(pseudonyms)];
    const bySubject = (this.asJson ? await this.readJson(unique) : null) ?? (await this.readPlain(unique));
    return pseudonyms.map((p) => ({ ok: true, value: bySubject.get(p) ?? null }));
  }

  private async readPlain(unique: string[]): Promise<Map<string, SubjectSnapshot>> {
    return snapshotsByPseudonym(rawRows(await this.ctx.knex.raw(this.statement(unique.length, false), unique.map(bytes))));
  }

  /** The snapshots read as one JSON text, or null when they must be read the plain way. */
  private async readJson(unique: string[]): Promise<Map<string, SubjectSnapshot> | null> {
    let page: unknown;
    try {
      page = rawRows(await this.ctx.knex.raw(this.statement(unique.length, true), unique.map(bytes)))[0]?.page;
    } catch (error) {
      if (isJsonFailure(error)) return null;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = typeof page === 'string' ? JSON.parse(page) : null;
    } catch {
      return null;
    }
    if (!Array.isArray(parsed) || !parsed.every((row) => Array.isArray(row))) return null;
    const rows = parsed as unknown[][];
    for (const row of rows) lowerHexAt(row, AUDIENCE_HEX_AT);
    return snapshotsOfRows(rows);
  }

  private statement(count: number, json: boolean): string {
    const cache = json ? this.json : this.plain;
    let sql = cache.get(count);
    if (sql === undefined) {
      const { ctx } = this;
      const { knex } = ctx;
      const q = joinHead(knex(`${ctx.table('subjects')} as s`), ctx.table('events'), 's')
        .whereIn('s.pseudonym', Array.from({ length: count }, () => ''));
      if (json) {
        // Bytes as hex (upper case: lowered above), in `AUDIENCE_ROW_COLUMNS` order.
        const names = Object.keys(LOOKUP_COLUMNS);
        const page = knex.raw(`json_group_array(json_array(${names.map(() => '??').join(', ')})) as page`, names);
        sql = knex.select(page).from(q.select(pageColumns(knex, LOOKUP_COLUMNS)).as('p')).toSQL().sql;
      } else {
        sql = q.select('s.chain as head_chain', 's.pseudonym as head_pseudonym', headColumns('head_seq'), 's.head_id', 's.head_mac', 's.records').toSQL().sql;
      }
      cache.set(count, sql);
    }
    return sql;
  }
}
