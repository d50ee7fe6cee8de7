import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import knexFactory from 'knex';

const CHILD = fileURLToPath(new URL('./fixtures/start-child.ts', import.meta.url));

function start(dir: string, version: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(version)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code, output }); });
  });
}

describe('processes starting at once on one embedded SQLite file', function () {
  this.timeout(180_000);

  it('all start (requirement versions stored once, no SQLITE_BUSY), then all start again on a new version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'express-consent-start-'));
    try {
      for (const version of [1, 2]) {
        const results = await Promise.all(Array.from({ length: 5 }, () => start(dir, version)));
        for (const result of results) {
          expect(result.code, result.output).to.equal(0);
          expect(result.output).to.contain('started');
        }
      }
      const knex = knexFactory({ client: 'sqlite3', connection: { filename: join(dir, 'consent.sqlite3') }, useNullAsDefault: true });
      try {
        const rows = await knex('consent_requirements').select('id', 'version').orderBy(['id', 'version']);
        expect(rows).to.deep.equal([
          { id: 'news', version: 1 }, { id: 'news', version: 2 }, { id: 'stats', version: 1 }, { id: 'terms', version: 1 }, { id: 'terms', version: 2 },
        ]);
        expect(await knex('consent_events').count({ n: '*' }).first()).to.deep.equal({ n: 10 });
        // It holds pseudonyms and network details: the process that created it kept it to its owner.
        expect(statSync(join(dir, 'consent.sqlite3')).mode & 0o777).to.equal(0o600);
      } finally {
        await knex.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
