import { Command } from 'commander';
import { migrate } from '../knex/migrate';
import { withKnex } from './context';

/** `express-consent migrate`: runs the shipped migrations (creates an SQLite file if needed). */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('run the shipped migrations; safe to repeat and to run from several processes')
    .action(async (_options: unknown, command: Command) => {
      await withKnex(command, true, (knex, prefix) => migrate(knex, { tablePrefix: prefix }));
      process.stdout.write('migrations are current\n');
    });
}
