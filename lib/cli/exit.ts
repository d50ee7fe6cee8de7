import { ConsentError } from '../errors';
import { endBarLine } from './progress';

/** Exit codes of the command line. */
export const EXIT = { ok: 0, problems: 1, usage: 2, storage: 3 } as const;

/** A failure with the exit code it ends the process with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error (exit 2): bad arguments or options. */
export function usage(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

const USAGE_CODES = new Set(['invalid_argument', 'invalid_subject', 'invalid_option', 'unknown_requirement']);

/**
 * The exit code of an error: usage errors 2; everything else (the storage failed, or the output
 * could not be written) is 3.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ConsentError && USAGE_CODES.has(error.code)) return EXIT.usage;
  return EXIT.storage;
}

/** A one-line message for an error, with its cause when that says more. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // The library's advice names its API; here the command is the way, and a missing table
  // prefix (the app's tables are not where the command looks) is the other likely cause.
  if (error instanceof ConsentError && error.code === 'schema_mismatch' && Array.isArray(error.extensions.migrations)) {
    const missing = (error.extensions.migrations as unknown[]).map(String).join(', ');
    return `the database lacks migrations ${missing}: pass the --table-prefix your application uses, or run express-consent migrate`;
  }
  // `express-consent export | head`: the reader left; say so rather than quote the syscall.
  if ((error as { code?: unknown }).code === 'EPIPE') return `the output closed before the command finished (${error.message})`;
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error && cause.message && cause.message !== error.message ? `: ${withoutStatement(cause.message)}` : '';
  return `${error.message}${detail}`;
}

// Knex puts the failed statement, its values written in, before the driver's message: a batch's
// insert runs to hundreds of kilobytes of keys and hashes that say nothing to an operator.
const STATEMENT = /^(?:select|insert|update|delete|with|create|alter|drop|pragma|begin|commit|rollback|savepoint|release|set|lock|listen|notify)\b/i;

/** A database error's message without the statement Knex put before it. */
export function withoutStatement(message: string): string {
  const at = message.lastIndexOf(' - ');
  return at >= 0 && STATEMENT.test(message) ? message.slice(at + 3) : message;
}

// Messages quote what came from a file or the database (an imported line's field names, a
// requirement id): control characters (a terminal runs ESC sequences), line separators and
// bidi overrides are written as \u escapes, so that a line can neither drive the operator's
// terminal nor pass for another line.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `text` with every control, line-separating or bidi character as a `\u` escape of four hex digits. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Errors the library logged (with the error) before throwing them: printed once, by the logger.
const logged = new WeakSet();

/** The command's logger of errors: writes the line, and notes the error it names. */
export function logError(message: string, error?: unknown): void {
  if (typeof error === 'object' && error !== null) logged.add(error);
  endBarLine();
  process.stderr.write(`${printable(message)}\n`);
}

/** Writes the error a command failed with, unless the library's logger already wrote it. */
export function writeFailure(error: unknown): void {
  if (typeof error === 'object' && error !== null && logged.has(error)) return;
  endBarLine();
  process.stderr.write(`express-consent: ${printable(describeError(error))}\n`);
}

// What ends a command early: Ctrl-C, `kill`, a closed terminal.
const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Calls `handler` on each interrupt until the returned function (`stop`) is called; `handler`
 * may end the process with `endBy(signal, stop)`.
 */
export function onInterrupt(handler: (signal: NodeJS.Signals) => void): () => void {
  const stop = (): void => { for (const signal of INTERRUPTS) process.removeListener(signal, handler); };
  for (const signal of INTERRUPTS) process.on(signal, handler);
  return stop;
}

/**
 * Ends the process by `signal` once `stop` removed this command's handlers: the signal's default
 * action applies, and the exit status says so.
 */
export function endBy(signal: NodeJS.Signals, stop: () => void): void {
  stop();
  process.kill(process.pid, signal);
}
