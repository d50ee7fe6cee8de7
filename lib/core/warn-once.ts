import type { ConsentLogger } from '../options';

const given = new WeakMap<ConsentLogger, Set<string>>();

/**
 * Gives a configuration warning once per logger. With the default logger (`console`) that is
 * once per process: a test suite or a server with many instances sees it once, not once per
 * instance. A logger of one's own that is created per instance still receives it every time.
 */
export function warnOnce(logger: ConsentLogger, message: string): void {
  let messages = given.get(logger);
  if (!messages) {
    messages = new Set();
    given.set(logger, messages);
  }
  if (messages.has(message)) return;
  messages.add(message);
  logger.warn(message);
}
