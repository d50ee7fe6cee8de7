import { Command } from 'commander';
import { withTracker } from './context';
import { openConsent } from './open-consent';

/**
 * `express-consent migrate`: runs the shipped migrations (creates an SQLite file if needed).
 * With `CONSENT_SECRET` it then checks that secret against the database, binding a new database
 * to it, and seals a store upgraded from an older release once its old proof verifies; without
 * a secret such a store is sealed by the first library process that starts on it (with the
 * development secret it stores, by migrate).
 */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('run the shipped migrations, check CONSENT_SECRET against the database (binding a new one to it), and seal a store upgraded from an older release; safe to repeat and to run from several processes')
    .action(async (_options: unknown, command: Command) => {
      // The tracker migrates as it opens.
      let ran: readonly string[] = [];
      const done = await withTracker(command, true, async (tracker, migrated) => {
        ran = migrated;
        const pending = (await tracker.sealPending?.()) === true;
        const secret = Boolean(process.env.CONSENT_SECRET);
        if (!secret && !pending) return null;
        if (!secret && (await tracker.readSetting('secret')) === null) return { sealed: false, checked: false };
        // Opening checks (or binds) the secret, and verifies the old proof and seals (or fails, listing what it found).
        const consent = await openConsent(tracker, { claims: true, allowAltered: !pending });
        await consent.close();
        return { sealed: pending ? true : null, checked: secret };
      });
      if (ran.length > 0) process.stdout.write(`ran ${String(ran.length)} migration${ran.length === 1 ? '' : 's'}: ${ran.join(', ')}\n`);
      process.stdout.write(ran.length > 0 ? 'migrations are now current\n' : 'migrations were already current\n');
      if (done?.checked === true) process.stdout.write('CONSENT_SECRET is the secret of this database\n');
      if (done?.sealed === true) process.stdout.write('the upgraded store is sealed\n');
      if (done?.sealed === false) process.stdout.write('the upgraded store awaits its seal: set CONSENT_SECRET and run migrate again, or start the application\n');
    });
}
