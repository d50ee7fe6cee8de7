import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, posix } from 'node:path';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { packedApp, repo, run, type PackedApp } from './packed';

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
  // The browser client is bundled into the build: no file to find next to it.
  const client = await fetch('http://127.0.0.1:' + server.address().port + '/consent/client.js');
  const clientServed = client.status === 200 && (await client.text()).includes('consent:change');
  server.closeAllConnections();
  server.close();
  await consent.close();
  await db.destroy();
  console.log(JSON.stringify({ allowed, status: response.status, ids: body.requirements.map((r) => r.id), clientServed,
    error: new lib.ConsentError('invalid_argument', 'x') instanceof Error, testing: typeof testing.trackerConformance,
    tracker: tracker.KnexTracker === lib.KnexTracker && tracker.MemoryTracker === lib.MemoryTracker }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

// A tracker author's test file, as the README shows it: the shipped suite against a tracker.
const conformance = (load: string) => `${load}
trackerConformance('the packed MemoryTracker', { create: () => new MemoryTracker() });
`;

// How many times a class of the library is defined in bundled code (`var Name = class` or `class Name`).
const definitions = (code: string, name: string) => code.split(new RegExp(`\\b(?:var ${name} = class|class ${name})\\b`)).length - 1;

describe('the packed library', function () {
  this.timeout(120_000);
  let app: PackedApp;

  before(async () => {
    app = await packedApp();
  });

  it('ships the documents the README links to: every relative link of a packed document leads to a packed file', () => {
    const shipped = new Set(app.files);
    const broken: string[] = [];
    for (const doc of app.files.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(app.installed, doc), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const path = (target as string).split('#')[0] as string;
        if (path === '' || /^[a-z]+:/i.test(path)) continue;
        const resolved = posix.normalize(posix.join(posix.dirname(doc), path));
        if (!shipped.has(resolved)) broken.push(`${doc} → ${target as string}`);
      }
    }
    expect(broken).to.deep.equal([]);
    expect(app.files).to.include.members(['README.md', 'SECURITY.md', 'docs/getting-started.md', 'docs/reference.md']);
  });

  it('ships the built entry points with their types, and no sources or tests', () => {
    for (const entry of ['index', 'tracker', 'testing']) {
      for (const file of [`${entry}.js`, `${entry}.cjs`, `${entry}.d.ts`, `${entry}.d.cts`]) expect(app.files).to.include(`dist/${file}`);
    }
    expect(app.files).to.include.members(['dist/cli.js', 'package.json']);
    // The scripts of the threads verify() hashes on, found beside the code that starts them.
    expect(app.files).to.include.members(['dist/tree-worker.js', 'dist/tree-worker.cjs', 'dist/hmac-worker.js', 'dist/hmac-worker.cjs']);
    // And the script of the thread that reads a large SQLite store's pages through better-sqlite3,
    // and that of the threads that judge a large audience's pages.
    expect(app.files).to.include.members(['dist/page-worker.js', 'dist/page-worker.cjs', 'dist/audience-worker.js', 'dist/audience-worker.cjs']);
    expect(app.files.filter((f) => /^(lib|test|examples)\//.test(f))).to.deep.equal([]);
    const manifest = JSON.parse(readFileSync(join(app.installed, 'package.json'), 'utf8')) as { dependencies?: object; bin?: object };
    // The command line's argument parser is the only runtime dependency.
    expect(Object.keys(manifest.dependencies ?? {})).to.deep.equal(['commander']);
    expect(manifest.bin).to.deep.equal({ 'express-consent': './dist/cli.js' });
  });

  it('works through import', async () => {
    writeFileSync(join(app.scratch, 'esm.mjs'), program(
      "import * as lib from 'express-consent'; import * as tracker from 'express-consent/tracker'; import * as testing from 'express-consent/testing'; import express from 'express'; import knex from 'knex';",
    ));
    const { stdout } = await run(process.execPath, ['esm.mjs', join(app.scratch, 'data/esm.sqlite3')], { cwd: app.scratch, timeout: 30_000 });
    expect(JSON.parse(stdout)).to.deep.equal({ allowed: true, status: 200, ids: ['analytics'], clientServed: true, error: true, testing: 'function', tracker: true });
    const resolve = "for (const s of ['express-consent', 'express-consent/tracker', 'express-consent/testing']) console.log(import.meta.resolve(s))";
    const { stdout: resolved } = await run(process.execPath, ['--input-type=module', '-e', resolve], { cwd: app.scratch });
    expect(resolved.trim().split('\n').map((url) => url.replace(/^.*\/node_modules\/express-consent\//, ''))).to.deep.equal([
      'dist/index.js',
      'dist/tracker.js',
      'dist/testing.js',
    ]);
  });

  it('works through require', async () => {
    writeFileSync(join(app.scratch, 'cjs.cjs'), program(
      "const lib = require('express-consent'); const tracker = require('express-consent/tracker'); const testing = require('express-consent/testing'); const express = require('express'); const knex = require('knex');",
    ));
    const { stdout } = await run(process.execPath, ['cjs.cjs', join(app.scratch, 'data/cjs.sqlite3')], { cwd: app.scratch, timeout: 30_000 });
    expect(JSON.parse(stdout)).to.deep.equal({ allowed: true, status: 200, ids: ['analytics'], clientServed: true, error: true, testing: 'function', tracker: true });
    const resolve = "for (const s of ['express-consent', 'express-consent/tracker', 'express-consent/testing']) console.log(require.resolve(s))";
    const { stdout: resolved } = await run(process.execPath, ['-e', resolve], { cwd: app.scratch });
    expect(resolved.trim().split('\n').map((path) => path.replace(/^.*\/node_modules\/express-consent\//, ''))).to.deep.equal([
      'dist/index.cjs',
      'dist/tracker.cjs',
      'dist/testing.cjs',
    ]);
  });

  it('reads a page on the built thread script, in both module systems', async () => {
    const filename = join(app.scratch, 'data/pages.sqlite3');
    const driver = createRequire(join(repo, 'package.json')).resolve('better-sqlite3');
    const Database = createRequire(join(repo, 'package.json'))('better-sqlite3') as new (file: string) => { exec(sql: string): void; close(): void };
    const db = new Database(filename);
    db.exec("create table t (v text); insert into t values ('a'), ('b')");
    db.close();
    for (const ext of ['js', 'cjs']) {
      const worker = new Worker(join(app.installed, `dist/page-worker.${ext}`), { workerData: { driver, filename } });
      try {
        const next = (): Promise<unknown> => new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        expect(await next()).to.deep.equal({ opened: true }, ext);
        const answer = next();
        worker.postMessage({ id: 7, sql: 'select json_group_array(v) from t where v >= ?', bindings: ['a'] });
        expect(await answer).to.deep.equal({ id: 7, page: '["a","b"]' }, ext);
      } finally {
        await worker.terminate();
      }
    }
  });

  it('judges an audience page on the built thread script, in both module systems', async () => {
    const key = new Uint8Array(32);
    const requirement = { id: 'analytics', version: 1, lawfulBasis: 'consent', mandatory: false, expiresAfterDays: null, gpc: false, effectiveFrom: null };
    for (const ext of ['js', 'cjs']) {
      const worker = new Worker(join(app.installed, `dist/audience-worker.${ext}`), { workerData: { chain: key, pseudonym: key, subjectSiv: key, subject: key } });
      try {
        const answer = (rows: string): Promise<unknown> => new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.postMessage({ id: 3, rows, requirement, match: { allowed: true, states: null, gpc: false }, now: Date.now() });
        });
        // An empty page, then rows that do not decode (left to the main thread).
        expect(await answer('[]')).to.deep.equal({ id: 3, answer: { ids: '', ends: new Uint32Array(0), states: new Uint8Array(0), skipped: 0, unreadable: 0, failure: null, subjects: 0, last: null } }, ext);
        expect(await answer('[[')).to.deep.equal({ id: 3, answer: null }, ext);
      } finally {
        await worker.terminate();
      }
    }
  });

  it('recognises a ConsentError made by the other module system as one', async () => {
    writeFileSync(join(app.scratch, 'dual.mjs'), `
import * as esm from 'express-consent';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('express-consent');
const thrown = (f) => { try { f(); } catch (error) { return error; } };
const fromCjs = thrown(() => cjs.createConsent({ tablePrefx: 'x_' }));
const fromEsm = thrown(() => esm.createConsent({ tablePrefx: 'x_' }));
console.log(JSON.stringify({
  twoCopies: esm.ConsentError !== cjs.ConsentError,
  codes: [fromCjs.code, fromEsm.code],
  cjsErrorInEsm: esm.isConsentError(fromCjs),
  esmErrorInCjs: cjs.isConsentError(fromEsm),
  subclasses: [esm.isConsentError(new cjs.ConsentStoreError('down')), cjs.isConsentError(new esm.ConsentConfigError('invalid_option', 'x'))],
  others: [esm.isConsentError(new Error('x')), cjs.isConsentError({ code: 'invalid_option', status: 500, name: 'ConsentError' }), esm.isConsentError(null), cjs.isConsentError('x')],
  ownSymbols: Object.getOwnPropertySymbols(fromEsm).length + Object.getOwnPropertySymbols(fromCjs).length,
}));
`);
    const { stdout } = await run(process.execPath, ['dual.mjs'], { cwd: app.scratch, timeout: 30_000 });
    expect(JSON.parse(stdout)).to.deep.equal({
      twoCopies: true,
      codes: ['invalid_option', 'invalid_option'],
      cjsErrorInEsm: true,
      esmErrorInCjs: true,
      subclasses: [true, true],
      others: [false, false, false, false],
      // The mark is not an own property: logs and serialised errors do not show it.
      ownSymbols: 0,
    });
  });

  it('ships the conformance suite on the root entry’s copy of the library, not a second one', () => {
    for (const ext of ['js', 'cjs']) {
      const code = app.files.filter((f) => f.startsWith('dist/') && f !== 'dist/cli.js' && f.endsWith(`.${ext}`))
        .map((f) => readFileSync(join(app.installed, f), 'utf8'))
        .join('\n');
      for (const name of ['ConsentError', 'KnexTracker', 'MemoryTracker']) expect(definitions(code, name), `${name} in .${ext}`).to.equal(1);
      const testing = readFileSync(join(app.installed, `dist/testing.${ext}`), 'utf8');
      for (const name of ['ConsentError', 'KnexTracker', 'MemoryTracker']) expect(definitions(testing, name), `${name} in testing.${ext}`).to.equal(0);
      expect(statSync(join(app.installed, `dist/testing.${ext}`)).size).to.be.below(100_000);
    }
  });

  for (const [system, file, load] of [
    ['import', 'conformance.test.mjs', "import { trackerConformance } from 'express-consent/testing'; import { MemoryTracker } from 'express-consent';"],
    ['require', 'conformance.test.cjs', "const { trackerConformance } = require('express-consent/testing'); const { MemoryTracker } = require('express-consent');"],
  ] as const) {
    it(`runs the shipped conformance suite through ${system}`, async () => {
      writeFileSync(join(app.scratch, file), conformance(load));
      const mocha = join(repo, 'node_modules/mocha/bin/mocha.js');
      const { stdout } = await run(process.execPath, [mocha, '--no-config', '--reporter', 'dot', file], { cwd: app.scratch, timeout: 60_000 });
      expect(stdout).to.match(/\b\d+ passing\b/);
      expect(stdout).not.to.match(/failing|pending/);
    });
  }
});
