import type { ConsentLogger } from '../options';

const given = new WeakMap<ConsentLogger, Set<string>>();

/** Whether `message` was already given to `logger` (and remembers that it now is). */
function alreadyGiven(logger: ConsentLogger, message: string): boolean {
  let messages = given.get(logger);
  if (!messages) {
    messages = new Set();
    given.set(logger, messages);
  }
  if (messages.has(message)) return true;
  messages.add(message);
  return false;
}

/**
 * Gives a configuration warning once per logger. With the default logger (`console`) that is
 * once per process: a test suite or a server with many instances sees it once, not once per
 * instance. A logger of one's own that is created per instance still receives it every time.
 */
export function warnOnce(logger: ConsentLogger, message: string): void {
  if (!alreadyGiven(logger, message)) logger.warn(message);
}

/**
 * Reports an error once per logger, like `warnOnce`: for a mistake of the host's that fails
 * every request it touches, where one clear line beats a line per request.
 */
export function errorOnce(logger: ConsentLogger, message: string, error?: unknown): void {
  if (alreadyGiven(logger, message)) return;
  if (error === undefined) logger.error(message);
  else logger.error(message, error);
}
