import { accessSync, constants, statSync } from 'node:fs';
import { Command } from 'commander';
import { duplicateKeyPointer } from '../duplicate-keys';
import { ConsentError } from '../errors';
import { fileLines, reason } from './bounded-read';
import { withConsent } from './context';
import { CliError, describeError, endBy, logError, onInterrupt, printable, usage } from './exit';
import { progress, type Progress } from './progress';

/**
 * A line that holds no decision: a ConsentError, to which `import()` adds how many decisions the
 * batches before it imported (they stay committed).
 */
const lineRefused = (message: string): ConsentError => new ConsentError('invalid_argument', message, { extensions: { line: true } });

/**
 * The file's NDJSON objects, one line at a time (blank lines skipped), counting bytes read;
 * `lines` gets each object's line number, in order. A member given twice is refused, as the
 * HTTP API refuses it: `JSON.parse` would keep the last one without a word.
 */
async function* decisions(file: string, bar: Progress, lines: number[], reading: { interrupted(): boolean; ended: boolean }): AsyncGenerator {
  try {
    for await (const { line: read, n } of fileLines(file)) {
      if (reading.interrupted()) return;
      bar.add(Buffer.byteLength(read, 'utf8') + 1);
      // A byte-order mark that an editor put before the first line is no part of the JSON.
      const line = n === 1 && read.startsWith('\ufeff') ? read.slice(1) : read;
      if (line.trim() === '') continue;
      let decision: unknown;
      try {
        decision = JSON.parse(line) as unknown;
      } catch {
        throw lineRefused(`${file}:${String(n)}: not a JSON object`);
      }
      const twice = duplicateKeyPointer(line);
      if (twice !== null) throw lineRefused(`${file}:${String(n)}: gives the member ${printable(twice)} twice`);
      lines.push(n);
      yield decision;
    }
    reading.ended = !reading.interrupted();
  } catch (error) {
    // A line too long, or not UTF-8.
    throw error instanceof CliError ? lineRefused(error.message) : error;
  }
}

// The problems of a refused batch said one by one: a batch of thousands refused for one reason
// (a requirement the store does not have) would otherwise be one line of a megabyte.
const SHOWN_ERRORS = 10;

/**
 * A refused decision named by its file and line rather than its index among the decisions, with
 * how many were imported before it (earlier batches stay committed).
 */
function atLine(error: unknown, file: string, lines: readonly number[]): unknown {
  if (!(error instanceof ConsentError)) return error;
  const { errors, imported, line } = error.extensions as { errors?: Array<{ pointer: string; detail: string }>; imported?: number; line?: boolean };
  const before = typeof imported === 'number' ? `; ${String(imported)} decision${imported === 1 ? '' : 's'} before it imported` : '';
  if (line === true) return new ConsentError(error.code, `${error.message}${before}`, { status: error.status, extensions: error.extensions });
  // Anything else (the store failed): its cause said here, with what stays committed.
  if (!Array.isArray(errors) || errors.length === 0) return new ConsentError(error.code, `${describeError(error)}${before}`, { status: error.status, extensions: error.extensions });
  const shown = errors.slice(0, SHOWN_ERRORS).map(({ pointer, detail }) => {
    const [, index, field] = /^\/(\d+)(?:\/(.*))?$/.exec(pointer) ?? [];
    const at = index === undefined ? undefined : lines[Number(index)];
    // The member's name as the line spells it (a pointer escapes "/" and "~").
    const name = field?.replace(/~1/g, '/').replace(/~0/g, '~');
    return at === undefined ? `${pointer}: ${detail}` : `${file}:${String(at)}: ${name ? `${name}: ` : ''}${detail}`;
  });
  const more = errors.length > SHOWN_ERRORS ? `; and ${String(errors.length - SHOWN_ERRORS)} more` : '';
  return new ConsentError(error.code, `${shown.join('; ')}${more}${before}`, { status: error.status, extensions: error.extensions });
}

/**
 * Until `done()`, the first interrupt (Ctrl-C, `kill`, a closed terminal) stops the reading of
 * the file: what was read is imported, and the command then says how far it got and ends as the
 * signal would. A second interrupt ends it at once (the batch under way is rolled back).
 */
function stopOnInterrupt(): { signal: () => NodeJS.Signals | null; done: () => void } {
  let received: NodeJS.Signals | null = null;
  const done = onInterrupt((signal) => {
    if (received !== null) {
      endBy(signal, done);
      return;
    }
    received = signal;
    logError('express-consent: stopping once the decisions read so far are imported (interrupt again to stop at once, without them)');
  });
  return { signal: () => received, done };
}

/** `express-consent import <file>`: NDJSON decisions from another system, through `consent.import()`. */
export function importCommand(): Command {
  return new Command('import')
    .description('import NDJSON decisions { subjectId, requirement, version, decision, at, source } from another system')
    .argument('<file>', 'NDJSON file, one decision per line')
    .option('--batch-size <n>', 'decisions per transaction (1-10000)', '1000')
    .action(async (file: string, options: { batchSize: string }, command: Command) => {
      let size: number;
      try {
        size = statSync(file).size;
      } catch (error) {
        throw usage(`cannot read ${file}${reason(error)}`);
      }
      if (statSync(file).isDirectory()) throw usage(`cannot read ${file}: it is a directory`);
      try {
        accessSync(file, constants.R_OK);
      } catch {
        throw usage(`cannot read ${file}: permission denied`);
      }
      // Decimal digits only: Number() would also take 0x10, 1e3 and ' 5'.
      const batchSize = /^[0-9]{1,5}$/.test(options.batchSize) ? Number(options.batchSize) : NaN;
      if (!(batchSize >= 1 && batchSize <= 10_000)) throw usage('--batch-size must be an integer from 1 to 10000');
      const bar = progress('importing', size);
      const lines: number[] = [];
      const interrupt = stopOnInterrupt();
      const reading = { interrupted: () => interrupt.signal() !== null, ended: false };
      try {
        // A first import writes a new database: it binds CONSENT_SECRET to it, as the application would.
        const result = await withConsent(command, (consent) => consent.import(decisions(file, bar, lines, reading), { batchSize }), { claims: true })
          .catch((error: unknown) => { throw atLine(error, file, lines); });
        bar.done();
        process.stdout.write(`${JSON.stringify(result)}\n`);
        const signal = interrupt.signal();
        // Interrupted after the last line was read: nothing was left out.
        if (signal === null || reading.ended) return;
        const last = lines[lines.length - 1];
        const read = last === undefined ? 'no decision read' : `the decisions of lines 1-${String(last)} imported (${String(result.imported)}); the rest from line ${String(last + 1)} not read`;
        logError(`express-consent: interrupted: ${read}`);
        endBy(signal, interrupt.done);
      } finally {
        interrupt.done();
      }
    });
}
