import { Command } from 'commander';
import { withTracker } from './context';

/** `express-consent migrate`: runs the shipped migrations (creates an SQLite file if needed). */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('run the shipped migrations; safe to repeat and to run from several processes')
    .action(async (_options: unknown, command: Command) => {
      // The tracker migrates as it opens.
      await withTracker(command, true, () => Promise.resolve(undefined));
      process.stdout.write('migrations are current\n');
    });
}
