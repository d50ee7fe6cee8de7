import type { Knex } from 'knex';
import type { Row } from '../knex/rows';

/** One exported event: the columns of the admin export (SPEC §4), subject as its pseudonym. */
export interface ExportRow {
  id: string;
  at: string;
  requirement: string;
  version: number;
  action: string;
  state: string;
  source: string;
  /** The pseudonym; null once the subject was erased. */
  subject: string | null;
}

/** The export's columns, in order. */
export const EXPORT_COLUMNS = ['id', 'at', 'requirement', 'version', 'action', 'state', 'source', 'subject'] as const;

/** Rows per page of an event scan. */
export const EXPORT_PAGE = 1000;

/**
 * Every event in insertion (id) order, read in keyset pages of `EXPORT_PAGE`: each page is one
 * short indexed query, so memory stays flat and the store is never held for the whole export.
 */
export async function* eventRows(knex: Knex, prefix: string): AsyncGenerator<ExportRow[]> {
  let after = 0;
  for (;;) {
    const rows: Row[] = await knex(`${prefix}events as e`)
      .leftJoin(`${prefix}subjects as s`, 's.chain', 'e.chain')
      .where('e.id', '>', after)
      .orderBy('e.id')
      .limit(EXPORT_PAGE)
      .select('e.id', 'e.at', 'e.requirement', 'e.version', 'e.action', 'e.state', 'e.source', 's.pseudonym');
    if (rows.length === 0) return;
    yield rows.map((row) => ({
      id: String(row.id),
      at: new Date(Number(row.at)).toISOString(),
      requirement: row.requirement as string,
      version: Number(row.version),
      action: row.action as string,
      state: row.state as string,
      source: row.source as string,
      subject: (row.pseudonym as string | null) ?? null,
    }));
    if (rows.length < EXPORT_PAGE) return;
    after = Number(rows[rows.length - 1]?.id);
  }
}

/** The number of stored events (for progress). */
export async function countEvents(knex: Knex, prefix: string): Promise<number> {
  const row: Row | undefined = await knex(`${prefix}events`).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV header line (RFC 4180, CRLF). */
export function csvHeader(): string {
  return `${EXPORT_COLUMNS.join(',')}\r\n`;
}

/** One row as a CSV line (RFC 4180, CRLF). */
export function csvLine(row: ExportRow): string {
  return `${EXPORT_COLUMNS.map((column) => csvField(row[column])).join(',')}\r\n`;
}

/** One row as an NDJSON line. */
export function ndjsonLine(row: ExportRow): string {
  return `${JSON.stringify(row)}\n`;
}
