import { Command } from 'commander';
import { withTracker } from './context';
import { openConsent } from './open-consent';

/**
 * `express-consent migrate`: runs the shipped migrations (creates an SQLite file if needed).
 * A store upgraded from an older release is then sealed with the secret (`CONSENT_SECRET`, or
 * the development secret stored in it), once its old proof verifies; without a secret it is
 * sealed by the first library process that starts on it.
 */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('run the shipped migrations, and seal a store upgraded from an older release; safe to repeat and to run from several processes')
    .action(async (_options: unknown, command: Command) => {
      // The tracker migrates as it opens.
      let ran: readonly string[] = [];
      const sealed = await withTracker(command, true, async (tracker, migrated) => {
        ran = migrated;
        if (!(await tracker.sealPending?.())) return null;
        if (!process.env.CONSENT_SECRET && (await tracker.readSetting('secret')) === null) return false;
        // Opening verifies the old proof and seals (or fails, listing what it found).
        const consent = await openConsent(tracker);
        await consent.close();
        return true;
      });
      if (ran.length > 0) process.stdout.write(`ran ${String(ran.length)} migration${ran.length === 1 ? '' : 's'}: ${ran.join(', ')}\n`);
      process.stdout.write(ran.length > 0 ? 'migrations are now current\n' : 'migrations were already current\n');
      if (sealed === true) process.stdout.write('the upgraded store is sealed\n');
      if (sealed === false) process.stdout.write('the upgraded store awaits its seal: set CONSENT_SECRET and run migrate again, or start the application\n');
    });
}
