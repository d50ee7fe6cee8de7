/**
 * A change feed's subscriber whose handler threw `error`: its `onError`, then its `onReset`, so
 * that it drops what it cached (a change it was being told of may be lost). A failure of either
 * is dropped: the feed goes on telling the other subscribers.
 */
export function handlerFailed(handlers: { onError(error: unknown): void; onReset(): void }, error: unknown): void {
  for (const step of [() => { handlers.onError(error); }, () => { handlers.onReset(); }]) {
    try {
      step();
    } catch {
      // nothing left to tell
    }
  }
}
