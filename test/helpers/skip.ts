// A skip says why: the reporter (test/helpers/ci-reporter.cjs) prints the `skipReason` recorded
// here beside the skipped suite or test, and adds the skipped tests up by reason at the end.

/** `describe.skip(title, fn)`, reported as skipped because of `reason`. */
export function describeSkipped(title: string, reason: string, fn: () => void): void {
  const suite = describe.skip(title, fn);
  if (suite) Object.assign(suite, { skipReason: reason });
}

/**
 * Skips the running test (from `it`) or every test of the suite (from a `before` hook),
 * reported as skipped because of `reason`.
 */
export function skipBecause(context: Mocha.Context, reason: string): never {
  const runnable = context.test;
  const target = runnable && 'type' in runnable && runnable.type === 'hook' ? runnable.parent : runnable;
  if (target) Object.assign(target, { skipReason: reason });
  context.skip();
}
