import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Options of `streamChunks`. */
export interface StreamChunksOptions {
  /**
   * Called once the first chunk is in hand, before any byte is written: an HTTP response sets
   * its status and headers here, so that a source failing on its first read can still be
   * answered with a proper error.
   */
  onFirstChunk?(): void;
  /** End `destination` when the source is exhausted (false for `process.stdout`). @default true */
  end?: boolean;
}

async function* resumed(first: IteratorResult<string>, rest: AsyncIterator<string>): AsyncGenerator<string> {
  try {
    if (first.done) return;
    yield first.value;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    // Stopped early (the destination closed): the source's own cleanup runs too.
    await rest.return?.();
  }
}

/**
 * Writes text chunks from an async source to a writable stream (an HTTP response, a file
 * opened once the first chunk is in hand, stdout) through `stream.pipeline`: the source is read only as fast as the destination drains,
 * so a slow reader never makes the writer buffer more than a chunk or two; a destination that
 * closes early (a client going away) stops the source (its `finally` blocks run); a source that
 * fails destroys the destination, so a truncated output is never mistaken for a complete one.
 * Every listener it adds is removed when it settles.
 *
 * Rejects with the source's error, or with the destination's (`ERR_STREAM_PREMATURE_CLOSE`
 * when it closed before the end).
 */
export async function streamChunks(
  source: AsyncIterable<string>,
  destination: Writable | NodeJS.WritableStream | (() => Writable),
  options: StreamChunksOptions = {},
): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  let first: IteratorResult<string>;
  try {
    first = await iterator.next();
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  options.onFirstChunk?.();
  // A destination given as a function is opened only now: a file is not truncated by an export
  // whose first read fails.
  const target = typeof destination === 'function' ? destination() : destination;
  // A byte stream, not object mode: the readable holds at most its 16 KiB high-water mark.
  const readable = Readable.from(resumed(first, iterator), { objectMode: false });
  await pipeline(readable, target as Writable, { end: options.end ?? true });
}

/** Whether `error` says the destination closed before the end (a client that went away). */
export function isPrematureClose(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}
