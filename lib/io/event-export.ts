import { csvRow, EXPORT_COLUMNS, exportRow, ndjsonRow } from './export-rows';
import type { EventIdCodec } from '../audit/event-ids';
import { pagesAhead } from '../core/page-cursor';
import type { AuditEvent, AuditQuery } from '../tracker/admin-records';
import { csvLine } from './csv';

/** The formats of an event export. */
export type ExportFormat = 'csv' | 'ndjson';

/** Filters of an event export (those of `GET /admin/events`). */
export type ExportFilters = Omit<AuditQuery, 'order' | 'limit' | 'cursor'>;

/** Events per storage read of an export: one short query each, so memory stays flat. */
export const EXPORT_PAGE = 1000;

/** The media type of each format. */
export const EXPORT_TYPES: Readonly<Record<ExportFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** Options of `eventExport`. */
export interface EventExportOptions {
  format: ExportFormat;
  filters?: ExportFilters;
  /** Called with the number of events of each page written (for progress). */
  onPage?: (events: number) => void;
}

/**
 * Every matching event, oldest first, as CSV (with its header row) or NDJSON text, one chunk per
 * keyset page read through the admin capability's `auditEvents` (the next page is read while
 * one is written). The one export of `GET /admin/export`, the console and the command line;
 * the first chunk waits for the first read, so a store that is down fails it before any output.
 */
export async function* eventExport(
  read: (query: AuditQuery) => Promise<AuditEvent[]>,
  ids: EventIdCodec,
  options: EventExportOptions,
): AsyncGenerator<string> {
  const { format, filters = {}, onPage } = options;
  const line = format === 'csv' ? (e: AuditEvent) => csvRow(exportRow(e, ids)) : (e: AuditEvent) => ndjsonRow(exportRow(e, ids));
  const pages = pagesAhead(
    (cursor: string | undefined) => read({ ...filters, cursor, order: 'oldest', limit: EXPORT_PAGE }),
    (last) => last.id,
    EXPORT_PAGE,
  );
  let header = format === 'csv' ? csvLine(EXPORT_COLUMNS) : '';
  for await (const page of pages) {
    yield header + page.map(line).join('');
    header = '';
    onPage?.(page.length);
  }
  if (header !== '') yield header;
}
