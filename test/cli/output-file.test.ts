import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, createReadStream, lchownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import knexFactory from 'knex';
import { writeOutputFile } from '../../lib/cli/output-file';
import { createConsent } from '../../lib/index';
import { buildCli, CLI, SECRET } from '../helpers/cli';
import { sqliteKnexConfig } from '../helpers/databases';

async function* chunks(lines: string[], failAfter = Infinity): AsyncGenerator<string> {
  for (const [i, line] of lines.entries()) {
    if (i >= failAfter) throw new Error('the database went away');
    yield line;
  }
}

describe('--output files (export, audience)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'express-consent-output-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('replaces an existing file only once everything is written, and leaves no partial file behind', async () => {
    const file = join(dir, 'events.csv');
    writeFileSync(file, 'the export of yesterday\n');
    const failure = await writeOutputFile(chunks(['a\n', 'b\n', 'c\n'], 2), file).then(() => null, (error: unknown) => error as Error);
    expect(failure?.message).to.equal('the database went away');
    expect(readFileSync(file, 'utf8')).to.equal('the export of yesterday\n');
    expect(readdirSync(dir)).to.deep.equal(['events.csv']);
    await writeOutputFile(chunks(['a\n', 'b\n', 'c\n']), file);
    expect(readFileSync(file, 'utf8')).to.equal('a\nb\nc\n');
    expect(readdirSync(dir)).to.deep.equal(['events.csv']);
  });

  it('names the file asked for, not its hidden partial file, when it cannot be written (exit 2)', async () => {
    writeFileSync(join(dir, 'plain'), 'x');
    for (const [file, reason] of [[join(dir, 'missing', 'out.csv'), 'no such directory'], [join(dir, 'plain', 'out.csv'), 'a part of its path is not a directory']] as const) {
      const failure = await writeOutputFile(chunks(['a\n']), file).then(() => null, (error: unknown) => error as Error & { exitCode?: number });
      expect(failure?.message, file).to.equal(`cannot write ${file}: ${reason}`);
      expect(failure?.exitCode, file).to.equal(2);
    }
    expect(readdirSync(dir)).to.deep.equal(['plain']);
  });

  it('keeps the permissions of the file it replaces, and writes through a symlink', async () => {
    const file = join(dir, 'audience.csv');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o600);
    const link = join(dir, 'latest.csv');
    symlinkSync(file, link);
    await writeOutputFile(chunks(['new\n']), link);
    expect(lstatSync(link).isSymbolicLink()).to.equal(true);
    expect(readFileSync(file, 'utf8')).to.equal('new\n');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
  });

  it('never follows a symlink in a shared directory (sticky, world-writable): it replaces the link', async () => {
    const shared = join(dir, 'shared');
    execFileSync('mkdir', ['-m', '1777', shared]);
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const planted = join(shared, 'export.csv');
    symlinkSync(victim, planted);
    // As root, the link is another user's, as one planted in /tmp would be.
    if (process.getuid?.() === 0) lchownSync(planted, 65534, 65534);
    await writeOutputFile(chunks(['x\n']), planted);
    expect(readFileSync(victim, 'utf8')).to.equal('precious\n');
    expect(lstatSync(planted).isFile()).to.equal(true);
    expect(readFileSync(planted, 'utf8')).to.equal('x\n');
    expect(statSync(planted).mode & 0o777).to.equal(0o600);
    expect(readdirSync(shared)).to.deep.equal(['export.csv']);
    // A link to a device is not opened through either: the link is replaced.
    const device = join(shared, 'device.csv');
    symlinkSync('/dev/null', device);
    await writeOutputFile(chunks(['y\n']), device);
    expect(lstatSync(device).isFile()).to.equal(true);
    // A pipe that is there itself is written directly, as elsewhere.
    const fifo = join(shared, 'pipe');
    execFileSync('mkfifo', [fifo]);
    let read = '';
    const reader = new Promise<void>((resolve, reject) => {
      createReadStream(fifo, 'utf8').on('data', (chunk) => { read += String(chunk); }).on('end', resolve).on('error', reject);
    });
    await writeOutputFile(chunks(['through the pipe\n']), fifo);
    await reader;
    expect(read).to.equal('through the pipe\n');
  });

  it('keeps the permissions of a file it replaces, but never set-user-ID or set-group-ID', async () => {
    const file = join(dir, 'tool');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o6755);
    await writeOutputFile(chunks(['new\n']), file);
    expect(statSync(file).mode & 0o7777).to.equal(0o755);
  });

  it('writes a pipe directly, as it does a device', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    let read = '';
    const reader = new Promise<void>((resolve, reject) => {
      createReadStream(fifo, 'utf8').on('data', (chunk) => { read += String(chunk); }).on('end', resolve).on('error', reject);
    });
    await writeOutputFile(chunks(['through ', 'the pipe\n']), fifo);
    await reader;
    expect(read).to.equal('through the pipe\n');
    expect(statSync(fifo).isFIFO()).to.equal(true);
  });
});

/** Runs the built command line under `umask 022`, the common default, and resolves to its exit code. */
function runUnderUmask(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = execFile('sh', ['-c', 'umask 022 && exec "$0" "$@"', CLI, ...args], { env: { ...process.env, CONSENT_SECRET: SECRET } });
    child.on('exit', (code) => { resolve(code ?? -1); });
  });
}

describe('--output files of the command line', () => {
  let dir: string;
  let database: string;

  before(async function () {
    this.timeout(180_000);
    await buildCli();
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'express-consent-output-'));
    database = join(dir, 'consent.sqlite3');
    const knex = knexFactory(sqliteKnexConfig(database));
    const consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register({ id: 'news', title: 'News', description: 'A letter.' });
    await consent.ready();
    await consent.record('alice@example.com', { news: 'granted' });
    await consent.close();
    await knex.destroy();
  });

  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('creates a new export or audience file readable by its owner only, whatever the umask', async () => {
    for (const [name, command] of [['events.csv', ['export']], ['audience.csv', ['audience', 'news']]] as const) {
      const file = join(dir, name);
      expect(await runUnderUmask(['--url', database, ...command, '--output', file]), name).to.equal(0);
      expect(statSync(file).mode & 0o777, name).to.equal(0o600);
    }
    expect(readFileSync(join(dir, 'audience.csv'), 'utf8')).to.include('alice@example.com');
  });
});

/** Decisions enough that an export writes for a while after its first page. */
async function* manyDecisions(count: number): AsyncGenerator<Record<string, unknown>> {
  for (let i = 0; i < count; i += 1) {
    yield { subjectId: `subject-${String(i)}@example.com`, requirement: 'news', decision: 'granted', at: '2024-01-01T00:00:00Z' };
  }
}

describe('an interrupted --output of the command line', () => {
  let dir: string;
  let database: string;

  before(async function () {
    this.timeout(180_000);
    await buildCli();
    dir = mkdtempSync(join(tmpdir(), 'express-consent-interrupt-'));
    database = join(dir, 'consent.sqlite3');
    const knex = knexFactory(sqliteKnexConfig(database));
    const consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register({ id: 'news', title: 'News', description: 'A letter.' });
    await consent.ready();
    await consent.import(manyDecisions(20_000), { batchSize: 10_000 });
    await consent.close();
    await knex.destroy();
  });

  after(() => { rmSync(dir, { recursive: true, force: true }); });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`removes its partial file on ${signal} and leaves the file it was replacing as it was`, async () => {
      const out = mkdtempSync(join(dir, 'out-'));
      const file = join(out, 'events.csv');
      writeFileSync(file, 'the export of yesterday\n');
      const child = spawn(CLI, ['--url', database, 'export', '--output', file], { env: { ...process.env, CONSENT_SECRET: SECRET }, stdio: 'ignore' });
      const ended = new Promise<NodeJS.Signals | number | null>((resolve) => { child.on('exit', (code, killedBy) => { resolve(killedBy ?? code); }); });
      // Interrupted as soon as the partial file appears, with the rest of the export to write.
      const watcher = watch(out, (_event, name) => {
        if (name?.endsWith('.partial') === true) {
          watcher.close();
          child.kill(signal);
        }
      });
      try {
        expect(await ended).to.equal(signal);
      } finally {
        watcher.close();
      }
      expect(readdirSync(out)).to.deep.equal(['events.csv']);
      expect(readFileSync(file, 'utf8')).to.equal('the export of yesterday\n');
    });
  }
});
