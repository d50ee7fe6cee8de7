import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { withConsent } from './context';
import { usage } from './exit';
import { progress, type Progress } from './progress';

/** The file's NDJSON objects, one line at a time (blank lines skipped), counting bytes read. */
async function* decisions(file: string, bar: Progress): AsyncGenerator {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    bar.add(Buffer.byteLength(line, 'utf8') + 1);
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as unknown;
    } catch {
      throw usage(`${file}:${String(n)}: not a JSON object`);
    }
  }
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
        throw usage(`cannot read ${file}`);
      }
      const batchSize = Number(options.batchSize);
      if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw usage('--batch-size must be an integer from 1 to 10000');
      const bar = progress('importing', size);
      const result = await withConsent(command, (consent) => consent.import(decisions(file, bar), { batchSize }));
      bar.done();
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
