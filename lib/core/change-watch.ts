import type { ConsentLogger } from '../options';
import type { ConsentTracker } from '../tracker/tracker';
import type { StateCache } from './state-cache';

/** What watching needs: the tracker, the cache to keep current, the clock, and where to report. */
export interface WatchDeps {
  readonly tracker: Pick<ConsentTracker, 'subscribe'>;
  readonly cache: Pick<StateCache, 'invalidate' | 'clear' | 'synced' | 'unsynced'> | null;
  readonly logger: ConsentLogger;
  /** The engine's clock (epoch ms), the one cache entries are stamped with. */
  now(): number;
  /** Counts a notification received (other processes' writes). */
  noticed(): void;
}

/**
 * Lets writes by other processes reach the state cache at once, through the store's change
 * feed. While the feed confirms that it is current, cached states are kept until a change is
 * reported; when it breaks, that is logged once and the cache falls back to its lifetime
 * (`cache.ttlMs`) until the feed confirms again. Resolves to the function that stops watching,
 * or null without a cache or when the store cannot notify.
 */
export async function watchChanges(deps: WatchDeps): Promise<(() => Promise<void>) | null> {
  const { cache, tracker, logger } = deps;
  if (!cache || !tracker.subscribe) return null;
  let broken = false;
  const recovered = () => {
    if (!broken) return;
    broken = false;
    logger.warn('express-consent: the change feed is back; cached states are kept until they change again');
  };
  return tracker.subscribe({
    onChange: (pseudonym) => {
      deps.noticed();
      cache.invalidate(pseudonym);
    },
    onReset: () => {
      cache.clear();
    },
    onSynced: () => {
      recovered();
      cache.synced(deps.now());
    },
    onError: (error) => {
      cache.unsynced();
      if (broken) return;
      broken = true;
      logger.error('express-consent: the change feed broke; cached states expire after cache.ttlMs until it is back', error);
    },
  });
}
