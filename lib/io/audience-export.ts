import type { AudienceMember } from '../core/audience';
import { csvLine } from './csv';
import type { ExportFormat } from './event-export';

/** The columns of an audience listing: the subject id as the host gave it, and its state. */
export const AUDIENCE_COLUMNS = ['subject', 'state'] as const;

/**
 * An audience as CSV (with its header row) or NDJSON text, one chunk per page of members; the
 * first chunk waits for the first read, so a store that is down fails it before any output.
 */
export async function* audienceExport(pages: AsyncIterable<AudienceMember[]>, format: ExportFormat): AsyncGenerator<string> {
  const line = format === 'csv'
    ? (m: AudienceMember) => csvLine([m.subjectId, m.state])
    : (m: AudienceMember) => `${JSON.stringify({ subject: m.subjectId, state: m.state })}\n`;
  let header = format === 'csv' ? csvLine(AUDIENCE_COLUMNS) : '';
  for await (const page of pages) {
    yield header + page.map(line).join('');
    header = '';
  }
  // An empty audience is still a document: the CSV header, or an empty NDJSON body.
  yield header;
}
