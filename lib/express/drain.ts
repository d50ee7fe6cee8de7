import { once } from 'node:events';
import type { Response } from 'express';

/**
 * Resolves when the socket can take more of a streamed response (`drain`), or with false when
 * the client went away first. Leaves no listener behind either way.
 */
export async function drained(res: Response): Promise<boolean> {
  if (res.destroyed) return false;
  // The listener that loses the race must go, or every wait would leave one behind.
  const done = new AbortController();
  const wait = (event: string, result: boolean) =>
    once(res, event, { signal: done.signal }).then(() => result, () => false);
  try {
    return await Promise.race([wait('drain', true), wait('close', false)]);
  } finally {
    done.abort();
  }
}
