import type { AuditEvent } from '../tracker/admin-records';
import { csvLine } from './csv';
import { isoTime } from '../iso-time';
import type { EventIdCodec } from '../audit/event-ids';

/** The columns of `GET /admin/export`, in order. */
export const EXPORT_COLUMNS = ['id', 'at', 'requirement', 'version', 'action', 'state', 'source', 'subject', 'actor', 'context', 'locale'] as const;

/**
 * One exported event: `subject` is the pseudonym (null once erased), never a subject id;
 * `actor` who recorded it for the subject (null once erased), `context` where it was asked,
 * `locale` the language the text was shown in (null for events that show none).
 */
export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | null>;

/** The export row of an audit event, with its public id. */
export function exportRow(event: AuditEvent, ids: EventIdCodec): ExportRow {
  return {
    id: ids.encode(event.id),
    at: isoTime(event.at),
    requirement: event.requirement,
    version: event.version,
    action: event.action,
    state: event.state,
    source: event.source,
    subject: event.subject,
    actor: event.actor,
    context: event.context,
    locale: event.locale ?? null,
  };
}

/** The CSV line of an export row, in column order. */
export function csvRow(row: ExportRow): string {
  return csvLine(EXPORT_COLUMNS.map((column) => row[column]));
}

/** The NDJSON line of an export row. */
export function ndjsonRow(row: ExportRow): string {
  return `${JSON.stringify(row)}\n`;
}
