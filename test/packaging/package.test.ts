import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));

// The same program in both module systems: it uses the installed package the way an
// integrator would, on a real SQLite file, and prints what it saw as JSON.
const program = (load: string) => `${load}
(async () => {
  const db = knex({ client: 'sqlite3', connection: { filename: process.argv[2] }, useNullAsDefault: true });
  const consent = lib.createConsent({ knex: db, secret: 'x'.repeat(32) });
  consent.register({ id: 'analytics', title: 'Usage analytics', description: 'Pages you open.' });
  await consent.ready();
  await consent.record('user-1', { analytics: 'granted' });
  const allowed = await consent.isAllowed('user-1', 'analytics');
  const app = express();
  app.use('/consent', consent.router());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const response = await fetch('http://127.0.0.1:' + server.address().port + '/consent/requirements');
  const body = await response.json();
  server.closeAllConnections();
  server.close();
  await consent.close();
  await db.destroy();
  console.log(JSON.stringify({ allowed, status: response.status, ids: body.requirements.map((r) => r.id),
    error: new lib.ConsentError('invalid_argument', 'x') instanceof Error, testing: typeof testing.trackerConformance }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('the packed library', function () {
  this.timeout(120_000);
  let scratch: string;
  let files: string[];

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'express-consent-pack-'));
    await run('npm', ['run', 'build'], { cwd: repo });
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: repo });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed!.files.map((f) => f.path);
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, version: '1.0.0' }));
    // Only the tarball is installed (offline, no scripts); the peers are the repository's own
    // copies, linked in, so that sqlite3 is not compiled again.
    await run('npm', ['install', '--no-package-lock', '--omit=peer', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(scratch, packed!.filename)], { cwd: scratch });
    for (const peer of ['express', 'knex', 'sqlite3']) symlinkSync(join(repo, 'node_modules', peer), join(scratch, 'node_modules', peer), 'dir');
    mkdirSync(join(scratch, 'data'));
  });

  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('ships the built entry points with their types, and no sources or tests', () => {
    for (const file of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/testing.js', 'dist/testing.cjs', 'package.json']) {
      expect(files).to.include(file);
    }
    expect(files.filter((f) => /^(lib|test|examples)\//.test(f))).to.deep.equal([]);
    const manifest = JSON.parse(readFileSync(join(scratch, 'node_modules/express-consent/package.json'), 'utf8')) as { dependencies?: object };
    // The only runtime dependency is the command line's argument parser.
    expect(Object.keys(manifest.dependencies ?? {})).to.deep.equal(['commander']);
  });

  it('works through import', async () => {
    writeFileSync(join(scratch, 'esm.mjs'), program(
      "import * as lib from 'express-consent'; import * as testing from 'express-consent/testing'; import express from 'express'; import knex from 'knex';",
    ));
    const { stdout } = await run(process.execPath, ['esm.mjs', join(scratch, 'data/esm.sqlite3')], { cwd: scratch, timeout: 30_000 });
    expect(JSON.parse(stdout)).to.deep.equal({ allowed: true, status: 200, ids: ['analytics'], error: true, testing: 'function' });
    const { stdout: resolved } = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('express-consent'))"], { cwd: scratch });
    expect(resolved.trim()).to.match(/node_modules\/express-consent\/dist\/index\.js$/);
  });

  it('works through require', async () => {
    writeFileSync(join(scratch, 'cjs.cjs'), program(
      "const lib = require('express-consent'); const testing = require('express-consent/testing'); const express = require('express'); const knex = require('knex');",
    ));
    const { stdout } = await run(process.execPath, ['cjs.cjs', join(scratch, 'data/cjs.sqlite3')], { cwd: scratch, timeout: 30_000 });
    expect(JSON.parse(stdout)).to.deep.equal({ allowed: true, status: 200, ids: ['analytics'], error: true, testing: 'function' });
    const { stdout: resolved } = await run(process.execPath, ['-p', "require.resolve('express-consent')"], { cwd: scratch });
    expect(resolved.trim()).to.match(/node_modules\/express-consent\/dist\/index\.cjs$/);
  });
});
