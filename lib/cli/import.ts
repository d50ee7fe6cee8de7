import { statSync } from 'node:fs';
import { Command } from 'commander';
import { ConsentError } from '../errors';
import { fileLines } from './bounded-read';
import { withConsent } from './context';
import { usage } from './exit';
import { progress, type Progress } from './progress';

/**
 * The file's NDJSON objects, one line at a time (blank lines skipped), counting bytes read;
 * `lines` gets each object's line number, in order.
 */
async function* decisions(file: string, bar: Progress, lines: number[]): AsyncGenerator {
  for await (const { line: read, n } of fileLines(file)) {
    bar.add(Buffer.byteLength(read, 'utf8') + 1);
    // A byte-order mark that an editor put before the first line is no part of the JSON.
    const line = n === 1 && read.startsWith('\ufeff') ? read.slice(1) : read;
    if (line.trim() === '') continue;
    let decision: unknown;
    try {
      decision = JSON.parse(line) as unknown;
    } catch {
      throw usage(`${file}:${String(n)}: not a JSON object`);
    }
    lines.push(n);
    yield decision;
  }
}

/**
 * A refused decision named by its file and line rather than its index among the decisions, with
 * how many were imported before it (earlier batches stay committed).
 */
function atLine(error: unknown, file: string, lines: readonly number[]): unknown {
  if (!(error instanceof ConsentError)) return error;
  const { errors, imported } = error.extensions as { errors?: Array<{ pointer: string; detail: string }>; imported?: number };
  if (!Array.isArray(errors) || errors.length === 0) return error;
  const where = errors.map(({ pointer, detail }) => {
    const [, index, field] = /^\/(\d+)(?:\/(.*))?$/.exec(pointer) ?? [];
    const line = index === undefined ? undefined : lines[Number(index)];
    return line === undefined ? `${pointer}: ${detail}` : `${file}:${String(line)}: ${field ? `${field}: ` : ''}${detail}`;
  });
  const before = typeof imported === 'number' ? `; ${String(imported)} decision${imported === 1 ? '' : 's'} before it imported` : '';
  return new ConsentError(error.code, `${where.join('; ')}${before}`, { status: error.status, extensions: error.extensions });
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
      } catch {
        throw usage(`cannot read ${file}: no such file`);
      }
      if (statSync(file).isDirectory()) throw usage(`cannot read ${file}: it is a directory`);
      // Decimal digits only: Number() would also take 0x10, 1e3 and ' 5'.
      const batchSize = /^[0-9]{1,5}$/.test(options.batchSize) ? Number(options.batchSize) : NaN;
      if (!(batchSize >= 1 && batchSize <= 10_000)) throw usage('--batch-size must be an integer from 1 to 10000');
      const bar = progress('importing', size);
      const lines: number[] = [];
      const result = await withConsent(command, (consent) => consent.import(decisions(file, bar, lines), { batchSize }))
        .catch((error: unknown) => { throw atLine(error, file, lines); });
      bar.done();
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
