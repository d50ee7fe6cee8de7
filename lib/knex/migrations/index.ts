import type { Knex } from 'knex';
import { initialSchema } from './001-initial';
import { proofSchema } from './002-proof';
import { outboxSchema } from './003-outbox';
import { adminSchema } from './004-admin';
import { leanIndexesSchema } from './005-lean-indexes';
import { sealedRowsSchema } from './006-sealed-rows';
import { logSchema } from './007-log';
import { audiencesSchema } from './008-audiences';
import { textsSchema } from './009-texts';
import { leanRowsSchema } from './010-lean-rows';
import { personalSaltsSchema } from './011-personal-salts';
import { pseudonymHashSchema } from './012-pseudonym-hash';
import { foldedRecordsSchema } from './013-folded-records';
import { answeredVersionsSchema } from './014-answered-versions';

/** Every shipped migration, in order. Append only. */
const MIGRATIONS: ReadonlyArray<readonly [string, (prefix: string) => Knex.Migration]> = [
  ['001-initial', initialSchema],
  ['002-proof', proofSchema],
  ['003-outbox', outboxSchema],
  ['004-admin', adminSchema],
  ['005-lean-indexes', leanIndexesSchema],
  ['006-sealed-rows', sealedRowsSchema],
  ['007-log', logSchema],
  ['008-audiences', audiencesSchema],
  ['009-texts', textsSchema],
  ['010-lean-rows', leanRowsSchema],
  ['011-personal-salts', personalSaltsSchema],
  ['012-pseudonym-hash', pseudonymHashSchema],
  ['013-folded-records', foldedRecordsSchema],
  ['014-answered-versions', answeredVersionsSchema],
];

export const MIGRATION_NAMES: readonly string[] = MIGRATIONS.map(([name]) => name);

/** Serves the shipped migrations to Knex, bound to a table prefix. */
export class ConsentMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly prefix: string) {}

  getMigrations(): Promise<string[]> {
    return Promise.resolve([...MIGRATION_NAMES]);
  }

  getMigrationName(migration: string): string {
    return migration;
  }

  getMigration(migration: string): Promise<Knex.Migration> {
    const entry = MIGRATIONS.find(([name]) => name === migration);
    if (!entry) return Promise.reject(new Error(`unknown migration ${migration}`));
    return Promise.resolve(entry[1](this.prefix));
  }
}
