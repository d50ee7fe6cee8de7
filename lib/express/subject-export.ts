import type { Response } from 'express';
import type { SubjectExportParts } from '../core/export';
import type { ConsentLogger } from '../options';
import { sendStream } from './send-stream';

/** The export document's text, page by page: exactly `JSON.stringify` of the whole document (`texts` after the events it follows from). */
async function* documentChunks(parts: SubjectExportParts): AsyncGenerator<string> {
  // `events` is the document's last member: the head's closing brace gives way to it.
  let chunk = `${JSON.stringify(parts.head).slice(0, -1)},"events":[`;
  let separator = '';
  for await (const page of parts.pages) {
    for (const event of page) {
      chunk += separator + JSON.stringify(event);
      separator = ',';
    }
    yield chunk;
    chunk = '';
  }
  yield `${chunk}],"texts":${JSON.stringify(await parts.texts())}}`;
}

/**
 * Sends a subject's export as one JSON document written page by page: only about a page of
 * events is ever in memory, and the reads follow the client's pace. The first page is read
 * before any byte is sent, so a store that is down still gets a proper 503.
 */
export async function sendSubjectExport(res: Response, parts: SubjectExportParts, logger: ConsentLogger): Promise<void> {
  // Personal data: never kept by a shared cache or the browser's back/forward history.
  // Followed from a page, it is a file the person keeps; a program reads the JSON as usual.
  const headers = {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Disposition': 'attachment; filename="consent-export.json"',
  };
  await sendStream(res, headers, documentChunks(parts), logger, 'the subject export');
}
