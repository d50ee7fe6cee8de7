import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from './thread-priority';
import { hmacMatchesAt } from './keys';
import type { HmacBatch } from './hmac-pool';

/*
 * A worker thread of `HmacPool`: checks batches of texts against the HMACs they should have
 * and answers each with a verdict per text (1: it matches).
 */

const keys = (workerData as Uint8Array[]).map((key) => Buffer.from(key));

lowerThreadPriority();

parentPort?.on('message', (batch: HmacBatch) => {
  const { texts, ends, expected, digits } = batch;
  const verdicts = new Uint8Array(ends.length);
  // A key it was not given vouches for nothing: every text is left to the caller.
  const key = keys[batch.key];
  let start = 0;
  for (let i = 0; i < ends.length; i += 1) {
    const end = ends[i] as number;
    verdicts[i] = key !== undefined && hmacMatchesAt(key, texts.subarray(start, end), expected, i * 64, digits) ? 1 : 0;
    start = end;
  }
  parentPort?.postMessage({ id: batch.id, answer: verdicts }, [verdicts.buffer]);
});
