type Method = (...args: never[]) => Promise<unknown>;
type Original = (...args: unknown[]) => Promise<unknown>;

/**
 * `target` (a tracker) with some of its methods replaced: each replacement is built from the
 * original, bound to `target`, so it can call through before or after doing something of its
 * own. Every other member reads as on `target`.
 */
export function intercept<T extends object>(target: T, replace: Record<string, (original: Original) => Method>): T {
  return new Proxy(target, {
    get(inner, name, receiver) {
      const value: unknown = Reflect.get(inner, name, receiver);
      if (typeof value !== 'function') return value;
      const method = (value as Original).bind(inner);
      const wrap = typeof name === 'string' ? replace[name] : undefined;
      return wrap ? wrap(method) : method;
    },
  });
}
