import type { ConsentEngine } from './engine';
import { storeCall } from './store-call';
import type { ProofReader } from './verify';

/**
 * The tracker's proof reads, each page under the storage deadline: a long scan is many short
 * calls, so it is never cut off as a whole, yet a store that stops answering fails it closed.
 */
export function timedReader(engine: ConsentEngine): ProofReader {
  const ms = engine.options.storeTimeoutMs;
  const { tracker } = engine;
  return {
    scanEvents: (query) => storeCall(ms, 'event scan', () => tracker.scanEvents(query)),
    heads: (query) => storeCall(ms, 'head scan', () => tracker.heads(query)),
    ledger: (query) => storeCall(ms, 'ledger scan', () => tracker.ledger(query)),
    ledgerHead: () => storeCall(ms, 'ledger read', () => tracker.ledgerHead()),
  };
}
