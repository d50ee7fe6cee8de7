import type { Response } from 'express';
import { isPrematureClose, streamChunks } from '../io/stream-chunks';
import type { ConsentLogger } from '../options';

/**
 * Streams `chunks` as a 200 response with `headers`, through the one streaming helper. The
 * first chunk is read before the status and headers are set, so a store that is down still
 * gets its problem response (the error propagates); a client that goes away stops the reads
 * quietly; a failure after the first byte cuts the response short (a truncated download is the
 * only honest signal left once the headers are gone) and is logged as `what`.
 */
export async function sendStream(
  res: Response,
  headers: Record<string, string>,
  chunks: AsyncIterable<string>,
  logger: ConsentLogger,
  what: string,
): Promise<void> {
  let started = false;
  try {
    await streamChunks(chunks, res, {
      onFirstChunk: () => {
        started = true;
        res.status(200).set(headers);
      },
    });
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside the first chunk's callback, which the rule does not follow
    if (!started) throw error;
    if (!isPrematureClose(error)) logger.error(`express-consent: ${what} failed midway`, error);
    res.destroy();
  }
}
