/**
 * Polls `check` until it returns true. The deadline only turns a hang into a failure; no test
 * asserts on how long anything took.
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const giveUp = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
