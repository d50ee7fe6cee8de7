import { Command, Option } from 'commander';
import { audiencePages, type AudienceSummary } from '../core/audience';
import { STATES } from '../vocabulary';
import { audienceFilter } from '../core/audience-filter';
import { audienceExport } from '../io/audience-export';
import type { ExportFormat } from '../io/event-export';
import { streamChunks } from '../io/stream-chunks';
import { sqliteFileOf } from './connect';
import { connectionOf, withConsent } from './context';
import { refuseDatabaseOutput, writeOutputFile } from './output-file';
import { usage } from './exit';

/**
 * `--state` as `audience()` takes it: one state or several separated by commas (spaces around
 * them allowed).
 * @throws CliError a usage error (exit 2) naming what is not a state.
 */
function stateOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const states = value.split(',').map((s) => s.trim());
  const wrong = states.filter((s) => !(STATES as readonly string[]).includes(s));
  if (wrong.length > 0) {
    const named = wrong.map((s) => (s === '' ? 'an empty entry' : `"${s}"`)).join(', ');
    throw usage(`--state takes one state or several separated by commas (${STATES.join(', ')}); not ${named}`);
  }
  return states;
}

/**
 * `express-consent audience <requirement>`: the subject ids whose current state matches (allowed
 * now, or the `--state` given), as CSV or NDJSON, streamed in batches. How many subjects were
 * skipped (recorded before the store kept ids) goes to stderr.
 */
export function audienceCommand(): Command {
  return new Command('audience')
    .description('list the subject ids allowed under a requirement now, or in the given state (subject, state)')
    .argument('<requirement>', 'the requirement id')
    .option('--state <states>', `only subjects in this state, or one of these states separated by commas (${STATES.join(', ')})`)
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'ndjson']).default('csv'))
    .option('--output <file>', 'write to this file instead of stdout (as for export)')
    .action(async (requirement: string, options: { state?: string; format: ExportFormat; output?: string }, command: Command) => {
      const filter = audienceFilter({ state: stateOption(options.state) });
      if (options.output !== undefined) refuseDatabaseOutput(options.output, sqliteFileOf(connectionOf(command)));
      const summary: AudienceSummary = { listed: 0, skipped: 0, unreadable: 0, done: false };
      await withConsent(command, async (consent) => {
        const chunks = audienceExport(audiencePages(consent.engine, requirement, filter, summary), options.format);
        // A file is written whole or not at all (see writeOutputFile).
        if (options.output === undefined) await streamChunks(chunks, process.stdout, { end: false });
        else await writeOutputFile(chunks, options.output);
      });
      const notes = [`${String(summary.listed)} listed`];
      if (summary.skipped > 0) notes.push(`${String(summary.skipped)} skipped: recorded before subject ids were stored (a new decision or rememberSubject() stores them)`);
      if (summary.unreadable > 0) notes.push(`${String(summary.unreadable)} unreadable: their stored id does not open (run verify)`);
      process.stderr.write(`express-consent audience: ${notes.join('; ')}\n`);
    });
}
