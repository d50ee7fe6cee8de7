import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { countEvents, csvHeader, csvLine, eventRows, ndjsonLine } from '../ops/event-rows';
import { withKnex, write } from './context';
import { progress } from './progress';

/** `express-consent export`: every event as CSV or NDJSON, streamed in keyset pages. */
export function exportCommand(): Command {
  return new Command('export')
    .description('write every event (id, at, requirement, version, action, state, source, subject pseudonym)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'ndjson']).default('csv'))
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (options: { format: 'csv' | 'ndjson'; output?: string }, command: Command) => {
      await withKnex(command, false, async (knex, prefix) => {
        const bar = progress('exporting', await countEvents(knex, prefix));
        const out = options.output === undefined ? process.stdout : createWriteStream(options.output);
        const line = options.format === 'csv' ? csvLine : ndjsonLine;
        if (options.format === 'csv') await write(out, csvHeader());
        for await (const page of eventRows(knex, prefix)) {
          await write(out, page.map(line).join(''));
          bar.add(page.length);
        }
        bar.done();
        if (out !== process.stdout) {
          out.end();
          await finished(out);
        }
      });
    });
}
