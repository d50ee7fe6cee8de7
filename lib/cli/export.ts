import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { csvLine, csvRow, EXPORT_COLUMNS, exportRow, ndjsonRow } from '../audit/export-rows';
import { pagesAhead } from '../core/page-cursor';
import { countEvents, EXPORT_PAGE } from '../ops/event-rows';
import type { AuditEvent } from '../tracker/admin-records';
import { withConsent, write } from './context';
import { progress } from './progress';

/** `express-consent export`: every event as CSV or NDJSON, streamed in keyset pages. */
export function exportCommand(): Command {
  return new Command('export')
    .description('write every event (id, at, requirement, version, action, state, source, subject pseudonym)')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'ndjson']).default('csv'))
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (options: { format: 'csv' | 'ndjson'; output?: string }, command: Command) => {
      // Through a consent instance: the rows and their public ids are those of `GET /admin/export`.
      await withConsent(command, async (consent, knex, prefix) => {
        const { tracker, eventIds } = consent.engine;
        const read = tracker.auditEvents?.bind(tracker);
        if (!read) throw new Error('the tracker cannot list events');
        const bar = progress('exporting', await countEvents(knex, prefix));
        const out = options.output === undefined ? process.stdout : createWriteStream(options.output);
        const line = options.format === 'csv' ? (e: AuditEvent) => csvRow(exportRow(e, eventIds)) : (e: AuditEvent) => ndjsonRow(exportRow(e, eventIds));
        if (options.format === 'csv') await write(out, csvLine([...EXPORT_COLUMNS]));
        const pages = pagesAhead((cursor: string | undefined) => read({ order: 'oldest', cursor, limit: EXPORT_PAGE }), (last) => last.id, EXPORT_PAGE);
        for await (const page of pages) {
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
