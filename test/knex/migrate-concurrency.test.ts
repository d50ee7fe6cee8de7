import { expect } from 'chai';
import { MIGRATION_NAMES } from '../../lib/knex/migrations/index';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import knexFactory from 'knex';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { createConsent, migrate } from '../../lib/index';

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

  it('succeed for more instances with their own table prefix on one Knex than its pool has connections, started at once', async function () {
    this.timeout(60_000);
    const database = await createPgDatabase();
    // A short acquire timeout: a pool starved by waiters for the lock fails within seconds.
    const knex = knexFactory({ ...pgKnexConfig(database.url), pool: { min: 0, max: 3 }, acquireConnectionTimeout: 5_000 });
    const quiet = { warn: () => undefined, error: () => undefined };
    const tenants = Array.from({ length: 6 }, (_, i) => {
      const consent = createConsent({ knex, tablePrefix: `tenant${String(i)}_`, secret: 's'.repeat(32), logger: quiet, sweep: false, cache: false });
      consent.register({ id: 'news', title: 'News', description: 'Mails about news.' });
      return consent;
    });
    try {
      await Promise.all(tenants.map((consent) => consent.ready()));
      await Promise.all(tenants.map((consent, i) => consent.record(`user-${String(i)}`, { news: 'granted' })));
      expect(await Promise.all(tenants.map((consent, i) => consent.isAllowed(`user-${String(i)}`, 'news')))).to.deep.equal(tenants.map(() => true));
      const ran = await Promise.all(Array.from({ length: 6 }, (_, i) => migrate(knex, { tablePrefix: `other${String(i)}_` })));
      expect(ran.map((names) => names.length)).to.deep.equal(ran.map(() => MIGRATION_NAMES.length));
    } finally {
      await Promise.all(tenants.map((consent) => consent.close()));
      await knex.destroy();
      await database.drop();
    }
  });
});
