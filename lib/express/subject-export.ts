import type { Response } from 'express';
import type { SubjectExportParts } from '../core/export';
import type { ConsentLogger } from '../options';
import { drained } from './drain';

/**
 * Sends a subject's export as one JSON document written page by page: the bytes are those of
 * `JSON.stringify` of the whole document, but only about a page of events is ever in memory.
 * Waits for `drain` whenever the socket buffer is full, and stops reading when the client
 * disconnects. The first page is read before any byte is sent, so a store that is down still
 * gets a proper 503; a failure after that cuts the response short.
 */
export async function sendSubjectExport(res: Response, parts: SubjectExportParts, logger: ConsentLogger): Promise<void> {
  const { pages } = parts;
  let next = await pages.next();
  // Personal data: never kept by a shared cache or the browser's back/forward history.
  res.status(200).set({ 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  // `events` is the document's last member: the head's closing brace gives way to it.
  let chunk = `${JSON.stringify(parts.head).slice(0, -1)},"events":[`;
  let separator = '';
  try {
    while (!next.done) {
      for (const event of next.value) {
        chunk += separator + JSON.stringify(event);
        separator = ',';
      }
      if (!res.write(chunk) && !(await drained(res))) {
        await pages.return(undefined);
        return;
      }
      chunk = '';
      next = await pages.next();
    }
    res.end(`${chunk}]}`);
  } catch (error) {
    // Headers are gone: a truncated document is the only honest signal left.
    logger.error('express-consent: the subject export failed midway', error);
    res.destroy();
  }
}
