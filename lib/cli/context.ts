import type { Command } from 'commander';
import type { Knex } from 'knex';
import type { Consent } from '../create-consent';
import { checkSchema } from '../knex/migrate';
import { openKnex, type ConnectionOptions } from './connect';
import { openConsent } from './open-consent';

/** The global options of a command (declared on the program). */
export function connectionOf(command: Command): ConnectionOptions {
  const options = command.optsWithGlobals<{ url?: string; client?: string; connection?: string; tablePrefix: string }>();
  return { url: options.url, client: options.client, connection: options.connection, tablePrefix: options.tablePrefix };
}

/**
 * Runs `work` with the database open, and always closes it. Unless `create` (for `migrate`),
 * the database must exist and carry this release's schema.
 */
export async function withKnex<T>(command: Command, create: boolean, work: (knex: Knex, prefix: string) => Promise<T>): Promise<T> {
  const options = connectionOf(command);
  const knex = openKnex(options, create);
  try {
    if (!create) await checkSchema(knex, options.tablePrefix);
    return await work(knex, options.tablePrefix);
  } finally {
    await knex.destroy();
  }
}

/** Runs `work` with a consent instance over the database, and always closes both. */
export async function withConsent<T>(
  command: Command,
  work: (consent: Consent, knex: Knex, prefix: string) => Promise<T>,
  onEvents?: (count: number) => void,
): Promise<T> {
  return withKnex(command, false, async (knex, prefix) => {
    const consent = await openConsent(knex, { tablePrefix: prefix, onEvents });
    try {
      return await work(consent, knex, prefix);
    } finally {
      await consent.close();
    }
  });
}

/** Writes a chunk, waiting when the stream asks the writer to slow down. */
export async function write(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}
