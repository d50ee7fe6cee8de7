import type { ConsentLogger } from '../options';
import type { ConsentTracker } from '../tracker/tracker';
import type { StateCache } from './state-cache';

/** What watching needs: the tracker, the cache to keep current, and where to report. */
export interface WatchDeps {
  readonly tracker: Pick<ConsentTracker, 'subscribe'>;
  readonly cache: Pick<StateCache, 'invalidate' | 'clear'> | null;
  readonly logger: ConsentLogger;
  /** Counts a notification received (other processes' writes). */
  noticed(): void;
}

/**
 * Lets writes by other processes reach the state cache at once, through the store's change
 * notifications; the cache lifetime stays the fallback. Resolves to the function that stops
 * watching, or null without a cache or when the store cannot notify.
 */
export async function watchChanges(deps: WatchDeps): Promise<(() => Promise<void>) | null> {
  const { cache, tracker, logger } = deps;
  if (!cache || !tracker.subscribe) return null;
  return tracker.subscribe({
    onChange: (pseudonym) => {
      deps.noticed();
      cache.invalidate(pseudonym);
    },
    onReset: () => { cache.clear(); },
    onError: (error) => { logger.error('express-consent: the change listener lost its connection; reconnecting', error); },
  });
}
