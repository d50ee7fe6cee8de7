import type { ConsentEngine } from './engine';

/**
 * Lets writes by other processes reach the engine's state cache at once, through the store's
 * change notifications; the cache lifetime stays the fallback. Resolves to the function that
 * stops watching, or null without a cache or when the store cannot notify.
 */
export async function watchChanges(engine: ConsentEngine): Promise<(() => Promise<void>) | null> {
  const { cache, tracker, options } = engine;
  if (!cache || !tracker.subscribe) return null;
  return tracker.subscribe({
    onChange: (pseudonym) => {
      engine.notifications += 1;
      cache.invalidate(pseudonym);
    },
    onReset: () => cache.clear(),
    onError: (error) => options.logger.error('express-consent: the change listener lost its connection; reconnecting', error),
  });
}
