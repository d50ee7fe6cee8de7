import { Command, CommanderError } from 'commander';
import { audienceCommand } from './audience';
import { eraseCommand } from './erase';
import { EXIT, exitCodeOf, writeFailure } from './exit';
import { exportCommand } from './export';
import { importCommand } from './import';
import { migrateCommand } from './migrate';
import { statsCommand } from './stats';
import { sweepCommand } from './sweep';
import { verifyCommand } from './verify';
import { packageVersion } from './version';

/** The `express-consent` program: global connection options and one subcommand per task. */
export function program(): Command {
  const root = new Command('express-consent')
    .description('operate an express-consent database: migrate, verify, export, stats, audience, sweep, import, erase')
    .option('--url <url>', 'database: postgres://… URL, sqlite:file URL or an SQLite file path (default: CONSENT_DATABASE_URL)')
    .option('--client <client>', 'Knex client (pg or sqlite3), with --connection')
    .option('--connection <connection>', 'Knex connection string, file name or JSON object')
    .option('--table-prefix <prefix>', 'prefix of the library\'s tables', 'consent_')
    .version(packageVersion(), '-V, --version', 'print the version of express-consent')
    .addHelpText('after', '\nThe secret comes from CONSENT_SECRET, or else is the development secret an application stored in the database when it ran without one. Exit codes: 0 ok, 1 verification problems, 2 usage, 3 storage.')
    .showHelpAfterError()
    .exitOverride();
  for (const command of [migrateCommand(), verifyCommand(), exportCommand(), statsCommand(), audienceCommand(), sweepCommand(), importCommand(), eraseCommand()]) {
    root.addCommand(command.exitOverride().showHelpAfterError());
  }
  return root;
}

/** Runs the program with `argv` (without node and script) and resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; every parsing failure is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    writeFailure(error);
    return exitCodeOf(error);
  }
}

/**
 * Output that cannot be written (a reader that left the pipe, a full disk) ends the command at
 * once with one line and exit 3, as for a failed export, rather than with a crash whose exit 1
 * would read as "problems found". What the command wrote to the database before stays written.
 */
function stopOnOutputFailure(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    writeFailure(error.code === 'EPIPE' ? error : new Error(`the output could not be written (${error.message})`));
    process.exit(EXIT.storage);
  });
}

stopOnOutputFailure();
process.exitCode = await run(process.argv.slice(2));
