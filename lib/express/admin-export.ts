import type { Response } from 'express';
import { csvLine, csvRow, EXPORT_COLUMNS, exportRow, ndjsonRow } from '../audit/export-rows';
import type { ConsentEngine } from '../core/engine';
import type { AuditEvent, AuditQuery } from '../tracker/admin-records';
import type { AuditFilters, ExportFormat } from './admin-query';
import { drained } from './drain';

/** Events per storage read: one short query each, so memory stays flat whatever the total. */
export const EXPORT_PAGE = 1000;

const TYPES: Record<ExportFormat, string> = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' };

/**
 * Streams every matching event, oldest first, in keyset pages. Waits for `drain` whenever the
 * socket buffer is full (a slow client never makes the export buffer the table), and stops
 * reading when the client disconnects. The first page is read before any byte is sent, so a
 * store that is down still gets a proper 503; a failure after that cuts the response short.
 */
export async function streamExport(
  engine: ConsentEngine,
  read: (query: AuditQuery) => Promise<AuditEvent[]>,
  res: Response,
  query: AuditFilters & { format: ExportFormat },
): Promise<void> {
  const { format, ...filters } = query;
  const page = (cursor: string | undefined) => read({ ...filters, cursor, order: 'oldest', limit: EXPORT_PAGE });
  let events = await page(undefined);
  res.status(200).set({
    'Content-Type': TYPES[format],
    'Content-Disposition': `attachment; filename="consent-events.${format}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  const ids = engine.eventIds;
  const line = format === 'csv' ? (e: AuditEvent) => csvRow(exportRow(e, ids)) : (e: AuditEvent) => ndjsonRow(exportRow(e, ids));
  let chunk = format === 'csv' ? csvLine([...EXPORT_COLUMNS]) : '';
  try {
    for (;;) {
      chunk += events.map(line).join('');
      if (chunk !== '' && !res.write(chunk) && !(await drained(res))) return;
      chunk = '';
      const last = events[events.length - 1];
      if (events.length < EXPORT_PAGE || !last) break;
      events = await page(last.id);
    }
    res.end();
  } catch (error) {
    // Headers are gone: a truncated download is the only honest signal left.
    engine.options.logger.error('express-consent: the admin export failed midway', error);
    res.destroy();
  }
}
