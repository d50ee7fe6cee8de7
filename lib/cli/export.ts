import { Command, Option } from 'commander';
import { eventExport, type ExportFormat } from '../io/event-export';
import { streamChunks } from '../io/stream-chunks';
import { sqliteFileOf } from './connect';
import { connectionOf, withConsent } from './context';
import { refuseDatabaseOutput, writeOutputFile } from './output-file';
import { eventTotal } from './event-total';
import { progress } from './progress';

/** `express-consent export`: every event as CSV or NDJSON, streamed in keyset pages. */
export function exportCommand(): Command {
  return new Command('export')
    .description('write every event (id, at, requirement, version, action, state, source, subject pseudonym, actor, context, locale)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'ndjson']).default('csv'))
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (options: { format: ExportFormat; output?: string }, command: Command) => {
      if (options.output !== undefined) refuseDatabaseOutput(options.output, sqliteFileOf(connectionOf(command)));
      // Through a consent instance: the rows and their public ids are those of `GET /admin/export`.
      await withConsent(command, async (consent, tracker) => {
        const bar = progress('exporting', await eventTotal(tracker));
        const chunks = eventExport((query) => tracker.auditEvents(query), consent.engine.eventIds, {
          format: options.format,
          onPage: (n) => { bar.add(n); },
        });
        // stdout stays open (the process owns it); a file is written whole or not at all (a failed
        // export leaves an existing file as it was), then ended and flushed before exit.
        if (options.output === undefined) await streamChunks(chunks, process.stdout, { end: false });
        else await writeOutputFile(chunks, options.output);
        bar.done();
      });
    });
}
