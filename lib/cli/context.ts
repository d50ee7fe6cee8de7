import type { Command } from 'commander';
import type { Consent } from '../create-consent';
import { KnexTracker } from '../knex/knex-tracker';
import { openKnex, type ConnectionOptions } from './connect';
import { openConsent, type CliTracker, type OpenConsentOptions } from './open-consent';

/** The global options of a command (declared on the program). */
export function connectionOf(command: Command): ConnectionOptions {
  const options = command.optsWithGlobals<{ url?: string; client?: string; connection?: string; tablePrefix: string }>();
  return { url: options.url, client: options.client, connection: options.connection, tablePrefix: options.tablePrefix };
}

/**
 * Runs `work` with the database's tracker, and always closes it. With `create` (for `migrate`)
 * the tracker migrates the database (`work` gets the names of the migrations that ran);
 * otherwise it must exist and carry this release's schema.
 * Commands read and write only through the tracker, like the library itself.
 */
export async function withTracker<T>(command: Command, create: boolean, work: (tracker: CliTracker, migrated: readonly string[]) => Promise<T>): Promise<T> {
  const options = connectionOf(command);
  const tracker = new KnexTracker(openKnex(options, create), { tablePrefix: options.tablePrefix, ownsKnex: true });
  try {
    await tracker.init({ migrate: create });
    return await work(tracker, tracker.ranMigrations);
  } finally {
    await tracker.close();
  }
}

/** Runs `work` with a consent instance over the database, and always closes both. */
export async function withConsent<T>(
  command: Command,
  work: (consent: Consent, tracker: CliTracker) => Promise<T>,
  options: OpenConsentOptions = {},
): Promise<T> {
  return withTracker(command, false, async (tracker) => {
    const consent = await openConsent(tracker, options);
    try {
      return await work(consent, tracker);
    } finally {
      await consent.close();
    }
  });
}
