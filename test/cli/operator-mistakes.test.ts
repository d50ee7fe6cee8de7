import { spawn } from 'node:child_process';
import { chmodSync, closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createConsent } from '../../lib/index';
import { buildCli, CLI, runCli, SECRET, describeEachCliDatabase, type CliDatabase } from '../helpers/cli';

/** A store with two subjects who answered the newsletter. */
async function store(db: CliDatabase): Promise<void> {
  const consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
  consent.register({ id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.' });
  await consent.ready();
  await consent.record('ann', { newsletter: 'granted' });
  await consent.record('bob', { newsletter: 'denied' });
  await consent.close();
}

/** The command's exit code and stderr with its stdout going to `stdout` (a file descriptor). */
function runTo(args: string[], stdout: number | 'pipe', closeAtOnce = false): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(CLI, args, { env: { ...process.env, CONSENT_SECRET: SECRET }, stdio: ['ignore', stdout, 'pipe'] });
    // Like `| true`: the reader is gone before the command writes.
    if (closeAtOnce) child.stdout?.destroy();
    let stderr = '';
    const errors = child.stderr as NodeJS.ReadableStream;
    errors.setEncoding('utf8');
    errors.on('data', (chunk: string) => { stderr += chunk; });
    child.on('close', (code) => { resolve({ code, stderr }); });
  });
}

/** A directory of the test's own, removed with what it holds. */
function tempDir(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), 'consent-cli-'));
  return { path, cleanup: () => { rmSync(path, { recursive: true, force: true }); } };
}

const lines = (...decisions: string[]): string => `${decisions.join('\n')}\n`;
const decision = (subjectId: string, choice: 'granted' | 'denied') =>
  JSON.stringify({ subjectId, requirement: 'newsletter', version: 1, decision: choice, at: '2025-01-01T00:00:00Z', source: 'import' });

describe('the express-consent command line against an operator\'s mistakes', () => {
  before(async function () {
    this.timeout(180_000);
    await buildCli();
  });

  describeEachCliDatabase('output, imports and altered texts', (open) => {
    let db: CliDatabase;
    const dir = tempDir();
    beforeEach(async () => {
      db = await open();
      await store(db);
    });
    afterEach(async () => { await db.release(); });
    after(() => { dir.cleanup(); });

    const events = async () => Number(((await db.knex('consent_events').count({ n: '*' }).first()) as { n: number | string }).n);

    it('ends with exit 3 and one line when its output cannot be written, never with a crash that reads as "problems found"', async () => {
      const full = openSync('/dev/full', 'w');
      try {
        for (const args of [['verify'], ['stats'], ['--help']]) {
          const run = await runTo(['--url', db.url, ...args], full);
          expect(run, args.join(' ')).to.deep.equal({ code: 3, stderr: 'express-consent: the output could not be written (ENOSPC: no space left on device, write)\n' });
        }
      } finally {
        closeSync(full);
      }
      const closed = await runTo(['--url', db.url, 'verify'], 'pipe', true);
      expect(closed).to.deep.equal({ code: 3, stderr: 'express-consent: the output closed before the command finished (write EPIPE)\n' });
    });

    it('imports no byte that is not UTF-8 and no line that names a member twice, and says how many decisions were imported before a bad line', async () => {
      const latin1 = join(dir.path, 'latin1.ndjson');
      // "müller" and "mäller" in Latin-1: read as U+FFFD they would be one subject.
      writeFileSync(latin1, Buffer.from(lines(decision('m\u00fcller', 'granted'), decision('m\u00e4ller', 'denied')), 'latin1'));
      const refused = await runCli(['--url', db.url, 'import', latin1]);
      expect(refused).to.include({ code: 2 });
      expect(refused.stderr).to.equal(`express-consent: ${latin1}:1: not UTF-8 text (save the file as UTF-8); 0 decisions before it imported\n`);

      const twice = join(dir.path, 'twice.ndjson');
      writeFileSync(twice, lines(decision('cat', 'granted'), decision('dan', 'granted').replace('{', '{"subjectId":"eve",')));
      const doubled = await runCli(['--url', db.url, 'import', twice, '--batch-size', '1']);
      expect(doubled).to.include({ code: 2 });
      expect(doubled.stderr).to.equal(`express-consent: ${twice}:2: gives the member /subjectId twice; 1 decision before it imported\n`);

      const broken = join(dir.path, 'broken.ndjson');
      writeFileSync(broken, lines(decision('fay', 'granted'), decision('gus', 'granted'), decision('hal', 'granted'), 'not json'));
      const before = await events();
      const stopped = await runCli(['--url', db.url, 'import', broken, '--batch-size', '1']);
      expect(stopped).to.include({ code: 2 });
      expect(stopped.stderr).to.equal(`express-consent: ${broken}:4: not a JSON object; 3 decisions before it imported\n`);
      expect(await events()).to.equal(before + 3);
    });

    it('says in one short line why an import stopped, and how many decisions stay imported', async () => {
      // The store fails once it holds six events (two were there): the third batch of two.
      if (db.url.startsWith('sqlite:')) {
        await db.knex.raw("create trigger full_disk before insert on consent_events when (select count(*) from consent_events) >= 6 begin select raise(abort, 'the disk is full'); end");
      } else {
        await db.knex.raw("create function full_disk() returns trigger language plpgsql as $$ begin if (select count(*) from consent_events) >= 6 then raise exception 'the disk is full'; end if; return new; end $$");
        await db.knex.raw('create trigger full_disk before insert on consent_events for each row execute function full_disk()');
      }
      const file = join(dir.path, 'eight.ndjson');
      writeFileSync(file, lines(...['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'].map((id) => decision(id, 'granted'))));
      const run = await runCli(['--url', db.url, 'import', file, '--batch-size', '2']);
      expect(run).to.include({ code: 3 });
      // Not the statement Knex puts before the driver's message (a batch's values written out).
      expect(run.stderr).to.match(/^express-consent: storage failed during import: (SQLITE_CONSTRAINT: )?the disk is full; 4 decisions before it imported\n$/);
      expect(await events()).to.equal(6);

      // A batch refused for many lines names the first ten, and counts the rest.
      const wrong = join(dir.path, 'wrong.ndjson');
      writeFileSync(wrong, lines(...Array.from({ length: 25 }, (_, i) => decision(`w${String(i)}`, 'granted').replace('"newsletter"', '"newsleter"'))));
      const refused = await runCli(['--url', db.url, 'import', wrong]);
      expect(refused).to.include({ code: 2 });
      expect(refused.stderr.match(/no requirement is registered as "newsleter"/g)).to.have.length(10);
      expect(refused.stderr).to.include(`${wrong}:10: requirement: no requirement`).and.to.include('; and 15 more; 0 decisions before it imported\n');
      expect(refused.stderr).to.not.include(`${wrong}:11:`);
    });

    it('stops reading at an interrupt, imports what it read, and says how far it got', async () => {
      const file = join(dir.path, 'long.ndjson');
      writeFileSync(file, lines(...Array.from({ length: 20_000 }, (_, i) => decision(`long-${String(i)}`, 'granted'))));
      const before = await events();
      const child = spawn(CLI, ['--url', db.url, 'import', file, '--batch-size', '50'], { env: { ...process.env, CONSENT_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => { child.on('close', (code, signal) => { resolve({ code, signal }); }); });
      // Once some batches are in, Ctrl-C.
      for (let waited = 0; (await events()) === before; waited += 20) {
        if (waited > 60_000) throw new Error('no batch was imported');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGINT');
      expect(await ended).to.deep.equal({ code: null, signal: 'SIGINT' });
      const { imported } = JSON.parse(stdout) as { imported: number };
      expect(imported).to.be.above(0).and.below(20_000);
      expect(await events()).to.equal(before + imported);
      // Lines and decisions are one to one here: the next line is the first not imported.
      expect(stderr).to.equal(
        'express-consent: stopping once the decisions read so far are imported (interrupt again to stop at once, without them)\n' +
          `express-consent: interrupted: the decisions of lines 1-${String(imported)} imported (${String(imported)}); the rest from line ${String(imported + 1)} not read\n`,
      );
    });

    it('refuses an --actor the library would not record', async () => {
      for (const actor of ['', 'a'.repeat(257)]) {
        const run = await runCli(['--url', db.url, 'erase', 'ann', '--actor', actor]);
        expect(run, JSON.stringify(actor)).to.include({ code: 2 });
        expect(run.stderr).to.match(/^express-consent: --actor must be /);
      }
      expect(await runCli(['--url', db.url, 'erase', 'ann', '--actor', 'a'.repeat(256)])).to.include({ code: 0, stdout: '{"events":1}\n' });
    });

    it('reports a requirement text changed in the database as a verification problem, and lists or exports nothing under it', async () => {
      await db.knex('consent_requirements').where({ id: 'newsletter' }).update({ lawful_basis: 'legitimate_interests' });
      const verify = await runCli(['--url', db.url, 'verify']);
      expect(verify).to.include({ code: 1, stderr: '' });
      expect(verify.stdout).to.include('problem: text_changed at requirement:newsletter:1').and.include('FAILED');
      for (const command of [['audience', 'newsletter'], ['export'], ['sweep']]) {
        const run = await runCli(['--url', db.url, ...command]);
        expect(run, command.join(' ')).to.include({ code: 1, stdout: '' });
        expect(run.stderr).to.equal('express-consent: the stored text or lawful basis of requirement "newsletter" version 1 was changed in the database (its seal does not check): run express-consent verify\n');
      }
      // An erasure uses no text: it goes through.
      expect(await runCli(['--url', db.url, 'erase', 'bob'])).to.include({ code: 0, stdout: '{"events":1}\n' });
    });

    it('refuses a store whose newest answered requirement version was deleted, so that an older one under another lawful basis would stand in for it', async () => {
      const offers = { id: 'offers', title: 'Offers', description: 'Offers we think you will like.' };
      for (const [version, lawfulBasis, subject] of [[1, 'legitimate_interests', 'bob'], [2, 'consent', 'ann']] as const) {
        const consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
        consent.register([{ id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.' }, { ...offers, version, lawfulBasis }]);
        await consent.ready();
        await consent.record(subject, { offers: 'granted' });
        await consent.close();
      }
      expect(await runCli(['--url', db.url, 'audience', 'offers'])).to.include({ code: 0, stdout: 'subject,state\r\nann,granted\r\n' });
      await db.knex('consent_requirements').where({ id: 'offers', version: 2 }).delete();
      const verify = await runCli(['--url', db.url, 'verify']);
      expect(verify).to.include({ code: 1, stderr: '' });
      expect(verify.stdout).to.include('problem: text_changed at requirement:offers:2');
      // Version 1 (legitimate interests) would otherwise be current, and bob listed with ann.
      for (const command of [['audience', 'offers'], ['export'], ['sweep']]) {
        const run = await runCli(['--url', db.url, ...command]);
        expect(run, command.join(' ')).to.include({ code: 1, stdout: '' });
        expect(run.stderr).to.equal('express-consent: requirement "offers" version 2, which people answered, is no longer stored in the database: run express-consent verify\n');
      }
      // Her newsletter grant and her grant of version 2, redacted.
      expect(await runCli(['--url', db.url, 'erase', 'ann'])).to.include({ code: 0, stdout: '{"events":2}\n' });
      // An erasure's own event answers no requirement: the store still refuses for version 2 alone.
      expect((await runCli(['--url', db.url, 'export'])).stderr).to.include('"offers" version 2,');
    });
  });

  describe('--output (SQLite)', () => {
    const dir = tempDir();
    after(() => { dir.cleanup(); });

    it('refuses to write an export or an audience over the database, its journal files, or a link to it', async () => {
      const { default: knexFactory } = await import('knex');
      const { sqliteKnexConfig } = await import('../helpers/databases');
      const file = join(dir.path, 'store.sqlite3');
      const knex = knexFactory(sqliteKnexConfig(file));
      await store({ url: file, knex, release: () => knex.destroy() });
      await knex.destroy();
      const stored = readFileSync(file);
      symlinkSync(file, join(dir.path, 'link.sqlite3'));
      // A directory reached through a link, where the database's side files do not exist while no process has it open.
      symlinkSync(dir.path, join(dir.path, 'alias'));
      const outputs = [
        [file, 'export', file], [file, 'audience', `${file}-wal`], [file, 'export', join(dir.path, 'link.sqlite3')], [file, 'audience', `${file}-journal`],
        [file, 'export', join(dir.path, 'alias', 'store.sqlite3-wal')], [file, 'export', join(dir.path, 'alias', 'alias', '..', 'store.sqlite3-shm')],
        // The database named through a link: its side files beside the link, and beside the file it leads to.
        [join(dir.path, 'link.sqlite3'), 'export', `${file}-wal`], [join(dir.path, 'link.sqlite3'), 'audience', join(dir.path, 'link.sqlite3-wal')],
      ] as const;
      for (const [url, command, output] of outputs) {
        const args = command === 'audience' ? ['audience', 'newsletter'] : ['export'];
        const run = await runCli(['--url', url, ...args, '--output', output]);
        expect(run, `${command} --output ${output}`).to.include({ code: 2, stdout: '' });
        expect(run.stderr).to.match(/^express-consent: --output .* is the database's own file \(.*\): writing there would destroy the store; name another file\n$/);
      }
      expect(readFileSync(file).equals(stored), 'the store is as it was').to.equal(true);
      // Paths that are no file to write or read: said in a line naming them.
      const cases: Array<[string[], number, string]> = [
        [['--url', file, 'export', '--output', dir.path], 2, `cannot write ${dir.path}: it is a directory`],
        [['--url', file, 'export', '--output', '/dev/full'], 3, 'cannot write /dev/full: no space left on the device'],
        [['--url', file, 'export', '--output', join(dir.path, 'no', 'such.csv')], 2, `cannot write ${join(dir.path, 'no', 'such.csv')}: no such directory`],
        [['--url', dir.path, 'verify'], 3, `${dir.path} is a directory, not an SQLite database`],
        [['--url', join(dir.path, 'no', 'such.sqlite3'), 'migrate'], 3, `cannot create ${join(dir.path, 'no', 'such.sqlite3')}: no such directory`],
        [['--url', join(file, 'such.sqlite3'), 'migrate'], 3, `cannot create ${join(file, 'such.sqlite3')}: a part of its path is not a directory`],
        [['--url', join(file, 'sub', 'such.sqlite3'), 'migrate'], 3, `cannot create ${join(file, 'sub', 'such.sqlite3')}: a part of its path is not a directory`],
        [['--url', `${join(dir.path, 'new.sqlite3')}/`, 'migrate'], 3, `cannot create ${join(dir.path, 'new.sqlite3')}/: a path ending in "/" names a directory`],
        [['--url', file, 'export', '--output', `${join(dir.path, 'out.csv')}/`], 2, `cannot write ${join(dir.path, 'out.csv')}/: a path ending in "/" names a directory`],
        [['--client', 'sqlite3', '--connection', '{}', 'verify'], 2, 'the connection names no SQLite file'],
      ];
      for (const [args, code, message] of cases) {
        expect(await runCli(args), args.join(' ')).to.deep.include({ code, stderr: `express-consent: ${message}\n` });
      }
      // A link that points at nothing is written through, as every link outside a shared directory.
      symlinkSync('written.csv', join(dir.path, 'dangling.csv'));
      expect(await runCli(['--url', file, 'export', '--output', join(dir.path, 'dangling.csv')])).to.include({ code: 0 });
      expect(readFileSync(join(dir.path, 'written.csv'), 'utf8')).to.match(/^id,at,requirement/);
      // So is a chain of them: the file at its end is written, and each link stays a link.
      symlinkSync('hop.csv', join(dir.path, 'chain.csv'));
      symlinkSync('end.csv', join(dir.path, 'hop.csv'));
      expect(await runCli(['--url', file, 'export', '--output', join(dir.path, 'chain.csv')])).to.include({ code: 0 });
      expect(readFileSync(join(dir.path, 'end.csv'), 'utf8')).to.match(/^id,at,requirement/);
      expect([lstatSync(join(dir.path, 'chain.csv')).isSymbolicLink(), lstatSync(join(dir.path, 'hop.csv')).isSymbolicLink()]).to.deep.equal([true, true]);
      // Never through a link in a shared directory (sticky and world-writable, as /tmp), which
      // another user may have planted: the file replaces that link instead.
      const shared = join(dir.path, 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      mkdirSync(join(dir.path, 'victim'));
      symlinkSync(join(dir.path, 'victim', 'planted.csv'), join(shared, 'hop.csv'));
      symlinkSync(join(shared, 'hop.csv'), join(dir.path, 'mine.csv'));
      expect(await runCli(['--url', file, 'export', '--output', join(dir.path, 'mine.csv')])).to.include({ code: 0 });
      expect(readdirSync(join(dir.path, 'victim'))).to.deep.equal([]);
      expect(lstatSync(join(shared, 'hop.csv')).isFile()).to.equal(true);
      expect(readFileSync(join(shared, 'hop.csv'), 'utf8')).to.match(/^id,at,requirement/);
      expect(await runCli(['--url', file, 'verify'])).to.include({ code: 0 });
      expect(await runCli(['--url', file, 'export', '--output', join(dir.path, 'events.csv')])).to.include({ code: 0 });
    });
  });
});
