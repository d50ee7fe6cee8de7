import type { Response } from 'express';
import type { EventIdCodec } from '../audit/event-ids';
import { eventExport, EXPORT_TYPES, type ExportFilters, type ExportFormat } from '../io/event-export';
import type { ConsentLogger } from '../options';
import type { AdminCapability } from '../tracker/admin-capability';
import { sendStream } from './send-stream';

/**
 * Sends every matching event as a download, oldest first (`GET /admin/export` and the console's
 * export links). Reads in keyset pages at the client's pace and stops when it disconnects; a
 * store that is down before the first byte gets a proper 503, after it a cut-short response.
 */
export function sendEventExport(
  res: Response,
  admin: Pick<AdminCapability, 'auditEvents'>,
  ids: EventIdCodec,
  logger: ConsentLogger,
  query: ExportFilters & { format: ExportFormat },
): Promise<void> {
  const { format, ...filters } = query;
  const headers = {
    'Content-Type': EXPORT_TYPES[format],
    'Content-Disposition': `attachment; filename="consent-events.${format}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  const read = admin.auditEvents.bind(admin);
  return sendStream(res, headers, eventExport(read, ids, { format, filters }), logger, 'the admin export');
}
