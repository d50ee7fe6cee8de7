import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import knexFactory from 'knex';
import { createConsent } from '../../lib/index';
import { buildCli, runCli, SECRET } from '../helpers/cli';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return port;
}

describe('the express-consent command line: usage and exit codes', () => {
  const file = tempSqliteFile();

  before(async function () {
    this.timeout(180_000);
    await buildCli();
    const knex = knexFactory(sqliteKnexConfig(file.filename));
    const consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register({ id: 'analytics', title: 'Usage analytics', description: 'Which pages you open.' });
    await consent.ready();
    await consent.record('u1', { analytics: 'granted' });
    await consent.close();
    await knex.destroy();
  });

  after(() => { file.cleanup(); });

  it('prints help for the program and every command with exit 0', async () => {
    const root = await runCli(['--help']);
    expect(root.code).to.equal(0);
    for (const command of ['migrate', 'verify', 'export', 'stats', 'sweep', 'import', 'erase']) expect(root.stdout).to.include(command);
    expect(root.stdout).to.include('CONSENT_SECRET');
    for (const [command, option] of [['migrate', 'migrations'], ['verify', '--subject'], ['export', '--format'], ['stats', '--json'], ['sweep', 'expire'], ['import', '<file>'], ['erase', '<subject>']]) {
      const run = await runCli([command as string, '--help']);
      expect(run.code, command).to.equal(0);
      expect(run.stdout).to.include(option);
    }
  });

  it('takes the database from CONSENT_DATABASE_URL when no option names one, so no password shows in the process list', async () => {
    const fromEnv = await runCli(['stats', '--json'], { CONSENT_DATABASE_URL: `sqlite:${file.filename}` });
    expect(fromEnv.code, fromEnv.stderr).to.equal(0);
    expect(fromEnv.stdout).to.include('analytics');
    // An option still wins over the environment.
    const named = await runCli(['--url', `${file.filename}.absent`, 'stats'], { CONSENT_DATABASE_URL: `sqlite:${file.filename}` });
    expect(named.code).to.equal(3);
    expect(named.stderr).to.include('.absent');
    const none = await runCli(['stats'], { CONSENT_DATABASE_URL: '' });
    expect(none.code).to.equal(2);
    expect(none.stderr).to.include('CONSENT_DATABASE_URL');
  });

  it('prints the package version with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect(await runCli([flag])).to.include({ code: 0, stdout: `${version}\n` });
  });

  it('exits 2 on usage errors', async () => {
    const db = ['--url', file.filename];
    const empty = `${file.filename}.empty.ndjson`;
    writeFileSync(empty, '');
    const cases: string[][] = [
      [],
      ['verify'],
      [...db, 'frobnicate'],
      [...db, 'export', '--format', 'xml'],
      [...db, 'erase'],
      [...db, 'verify', '--bogus'],
      ['--url', file.filename, '--client', 'pg', '--connection', 'x', 'verify'],
      ['--url', 'mysql://127.0.0.1/x', 'verify'],
      ['--client', 'oracledb', '--connection', 'x', 'verify'],
      [...db, '--table-prefix', 'Bad-Prefix', 'verify'],
      [...db, 'erase', 'x'.repeat(300)],
      // Decimal digits only: Number() reads these as 16, 1000 and 5.
      ...['0x10', '1e3', ' 5'].map((size) => [...db, 'import', empty, '--batch-size', size]),
    ];
    for (const args of cases) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).not.to.equal('');
    }
    // A URL with a mistyped scheme is named by its scheme: the rest may hold a password.
    for (const [url, scheme] of [['postgress://app:S3cretPW@db.example/x', 'postgress:'], ['postgres:/app:S3cretPW@db.example/x', 'postgres:']]) {
      const typo = await runCli(['--url', url as string, 'verify']);
      expect(typo, url).to.include({ code: 2 });
      expect(typo.stderr, url).to.include(`"${scheme as string}"`).and.not.include('S3cretPW');
    }
    // A port that is no number made the driver connect to 5432 instead (exit 3, connection refused).
    for (const url of ['postgres://app:S3cretPW@127.0.0.1:5433x/db', 'postgres://app:S3cretPW@127.0.0.1:99999/db']) {
      const port = await runCli(['--url', url, 'verify']);
      expect(port, url).to.include({ code: 2 });
      expect(port.stderr, url).to.include('does not parse').and.not.include('S3cretPW');
    }
    // Without its scheme a one-letter user reads as a drive letter, the URL as a file name.
    const bare = await runCli(['--url', 'b:S3cretPW@db.example/x', 'verify']);
    expect(bare.code).to.equal(3);
    expect(bare.stderr).to.include('@db.example/x').and.not.include('S3cretPW');
  });

  it('escapes the control and bidi characters of what it quotes from an imported file', async () => {
    const input = `${file.filename}.ndjson`;
    const decision = { subjectId: 'u2', version: 1, decision: 'granted', at: '2024-01-01T00:00:00Z' };
    const lines = [
      { ...decision, requirement: '\u001b]0;owned\u0007\u001b[2Janalytics' },
      { ...decision, requirement: 'analytics', 'note\u202e\nexpress-consent: ok': 'x' },
    ];
    for (const line of lines) {
      writeFileSync(input, `${JSON.stringify(line)}\n`);
      const run = await runCli(['--url', file.filename, 'import', input]);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.match(/^express-consent: [^\n]*\n$/);
      // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
      expect(run.stderr).not.to.match(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    }
    const run = await runCli(['--url', file.filename, 'import', input]);
    expect(run.stderr).to.include('note\\u202e\\u000aexpress-consent: ok: unknown field');
    // A member named with "/" or "~" is named as the line spells it, not as a pointer escapes it.
    writeFileSync(input, `${JSON.stringify({ ...decision, 'x/y~z': 1 })}\n`);
    const named = await runCli(['--url', file.filename, 'import', input]);
    expect(named.code).to.equal(2);
    expect(named.stderr).to.include(`${input}:1: x/y~z: unknown field`);
  });

  it('exits 2 when no secret is given and the database stores none, and 2 for a short one', async () => {
    const missing = await runCli(['--url', file.filename, 'verify'], { CONSENT_SECRET: undefined });
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('CONSENT_SECRET');
    expect((await runCli(['--url', file.filename, 'verify'], { CONSENT_SECRET: 'short' })).code).to.equal(2);
  });

  it('exits 2 with a secret other than the one the database was written with, naming the cause', async () => {
    for (const command of [['verify'], ['export'], ['sweep']]) {
      const run = await runCli(['--url', file.filename, ...command], { CONSENT_SECRET: 'another-secret-another-secret-0123456789' });
      expect(run.code, command[0]).to.equal(2);
      expect(run.stderr, command[0]).to.include('the secret is not the one this database was written with');
      // Logged by the library and thrown: said once.
      expect(run.stderr.split('the secret is not the one').length, run.stderr).to.equal(2);
    }
    expect((await runCli(['--url', file.filename, 'verify'])).code).to.equal(0);
  });

  it('counts without any secret, but exports only with it: the event ids it shows are keyed', async () => {
    const stats = await runCli(['--url', file.filename, 'stats', '--json'], { CONSENT_SECRET: undefined });
    expect(stats.code).to.equal(0);
    expect(JSON.parse(stats.stdout).requirements.analytics.states.granted).to.equal(1);
    const exported = await runCli(['--url', file.filename, 'export'], { CONSENT_SECRET: undefined });
    expect(exported.code).to.equal(2);
    expect(exported.stderr).to.include('CONSENT_SECRET');
    expect((await runCli(['--url', file.filename, 'export'])).code).to.equal(0);
  });

  it('says to pass the table prefix, or migrate, when the tables it looks for are not there (exit 3)', async () => {
    const prefixed = tempSqliteFile();
    try {
      const knex = knexFactory(sqliteKnexConfig(prefixed.filename));
      const consent = createConsent({ knex, secret: SECRET, tablePrefix: 'cx_', logger: { warn() {}, error() {} } });
      consent.register({ id: 'analytics', title: 'Usage analytics', description: 'Which pages you open.' });
      await consent.ready();
      await consent.close();
      await knex.destroy();
      const run = await runCli(['--url', prefixed.filename, 'verify']);
      expect(run.code).to.equal(3);
      expect(run.stderr).to.include('pass the --table-prefix your application uses, or run express-consent migrate');
      expect(run.stderr).not.to.include('migrate(knex)');
      expect((await runCli(['--url', prefixed.filename, '--table-prefix', 'cx_', 'verify'])).code).to.equal(0);
    } finally {
      prefixed.cleanup();
    }
  });

  it('exits 3 when the database cannot be reached or is not there', async () => {
    const port = await closedPort();
    const pg = await runCli(['--url', `postgres://postgres@127.0.0.1:${String(port)}/consent`, 'verify']);
    expect(pg.code).to.equal(3);
    expect(pg.stderr).to.match(/ECONNREFUSED/);
    const viaClient = await runCli(['--client', 'pg', '--connection', `postgres://127.0.0.1:${String(port)}/x`, 'stats']);
    expect(viaClient.code).to.equal(3);
    const absent = await runCli(['--url', `${file.filename}.missing`, 'export']);
    expect(absent.code).to.equal(3);
    expect(absent.stderr).to.include('no SQLite database');
  });

  it('exits 3 on a database the library never migrated', async () => {
    const empty = tempSqliteFile();
    try {
      const knex = knexFactory(sqliteKnexConfig(empty.filename));
      await knex.raw('create table unrelated (id integer)');
      await knex.destroy();
      const run = await runCli(['--url', empty.filename, 'verify']);
      expect(run.code).to.equal(3);
      expect(run.stderr).to.include('migrate');
    } finally {
      empty.cleanup();
    }
  });

  it('accepts --client sqlite3 with --connection and a sqlite:// URL, and stays quiet when piped', async () => {
    const viaClient = await runCli(['--client', 'sqlite3', '--connection', file.filename, 'verify']);
    expect(viaClient).to.include({ code: 0, stderr: '' });
    const viaUrl = await runCli(['--url', `sqlite://${file.filename}`, 'export']);
    expect(viaUrl).to.include({ code: 0, stderr: '' });
    expect(viaUrl.stdout.split('\r\n')).to.have.length(3);
  });
});
