import { expect } from 'chai';
import { MIGRATION_NAMES } from '../../lib/knex/migrations/index';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import knexFactory from 'knex';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';

const CHILD = fileURLToPath(new URL('./fixtures/migrate-child.ts', import.meta.url));

function runChild(url: string, pool: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, String(pool)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code, output }); });
  });
}

describePg('migrations (PostgreSQL)', () => {
  for (const pool of [4, 1]) it(`succeed in four processes (pools of ${String(pool)}) migrating one empty database at once`, async function () {
    this.timeout(120_000);
    const database = await createPgDatabase();
    const knex = knexFactory(pgKnexConfig(database.url));
    try {
      const results = await Promise.all(Array.from({ length: 4 }, () => runChild(database.url, pool)));
      for (const result of results) {
        expect(result.code, result.output).to.equal(0);
        expect(result.output).to.contain('migrated');
      }
      const applied = await knex('consent_migrations').select('name');
      expect(applied.map((r) => r.name)).to.deep.equal([...MIGRATION_NAMES]);
      const again = await runChild(database.url, pool);
      expect(again.code, again.output).to.equal(0);
      expect(await knex('consent_migrations').count({ n: '*' }).first()).to.deep.equal({ n: String(MIGRATION_NAMES.length) });
    } finally {
      await knex.destroy();
      await database.drop();
    }
  });
});
