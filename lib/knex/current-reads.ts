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
 * The guard's reads on a cache miss: the heads and records of the pseudonyms asked together, in
 * one statement, compiled once per number of pseudonyms.
 *
 * On SQLite the statement gives its rows as one JSON text: the `sqlite3` driver builds an object
 * per row, with a Buffer per byte column, on the main thread, which took several times what the
 * rest of a lookup there costs (`better-sqlite3`, synchronous, paid the same on the same thread).
 * JSON would read some values other than the way the plain statement does (SQLite takes a BLOB
 * given to its JSON functions as JSONB: x'00' is null; `sqlite3`'s SQLite prints a REAL with 15
 * digits), so the statement fails at once, with "malformed JSON", on a row whose columns do not
 * hold the types the library writes (`TYPED_ROW`); that batch, or one whose text is not JSON, is
 * read again the plain way, where such a row fails its seal as it always did. Any other failure
 * is the store's, and is not tried twice.
 */
// The types every column of a lookup's row has as the library writes it: a record's requirement
// is text (or, for a subject without records, the whole record is NULL), its times and versions
// integers or NULL, its flags integers; the head's position and id integers or NULL.
const TYPED_ROW = [
  `(st.chain is null or (typeof(st.requirement) = 'text' and typeof(st.decision) in ('text', 'null')`,
  ...['version', 'decided_at', 'expires_at', 'pending_version', 'pending_at', 'pending_expires_at'].map((c) => ` and typeof(st.${c}) in ('integer', 'null')`),
  ` and typeof(st.gpc_opt_in) = 'integer' and typeof(st.expiry_recorded) = 'integer'))`,
  ` and typeof(head_event.seq) in ('integer', 'null') and typeof(s.head_id) in ('integer', 'null')`,
].join('');

/** A failure the JSON statement makes on purpose, or one of SQLite's JSON functions. */
const isJsonFailure = (error: unknown): boolean => /JSON/.test(String((error as { message?: unknown } | null)?.message));

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
      // From the subject row: a subject whose records are all gone still has its head to check.
      const q = joinHead(knex(`${ctx.table('subjects')} as s`), ctx.table('events'), 's')
        .leftJoin(`${ctx.table('states')} as st`, 'st.chain', 's.chain')
        .whereIn('s.pseudonym', Array.from({ length: count }, () => ''));
      if (json) {
        // Bytes as hex (upper case: lowered above), in `AUDIENCE_ROW_COLUMNS` order.
        const names = Object.keys(LOOKUP_COLUMNS);
        const page = knex.raw(`json_group_array(json_array(${names.map(() => '??').join(', ')})) as page`, names);
        const requirement = knex.raw(`case when ${TYPED_ROW} then st.requirement else json('') end`);
        sql = knex.select(page).from(q.select({ ...pageColumns(knex, LOOKUP_COLUMNS), requirement }).as('p')).toSQL().sql;
      } else {
        sql = q.select('s.chain as head_chain', 's.pseudonym as head_pseudonym', headColumns('head_seq'), 's.head_id', 's.head_mac', 'st.*').toSQL().sql;
      }
      cache.set(count, sql);
    }
    return sql;
  }
}
