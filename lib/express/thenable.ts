/** Whether a hook's value is a promise (or any thenable) to await, rather than the value itself. */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
