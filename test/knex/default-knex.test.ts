import { expect } from 'chai';
import { spawn } from 'node:child_process';
import knexFactory, { type Knex } from 'knex';
import { openKnex } from '../../lib/cli/connect';
import { DEFAULT_PRAGMAS, defaultKnex, sqlitePragmaHook } from '../../lib/knex/default-knex';
import { tempSqliteFile } from '../helpers/databases';

const FULL = 2;

/** The value of `PRAGMA <name>` on the connection, through either driver. */
async function pragma(knex: Knex, name: string): Promise<unknown> {
  const rows: Array<Record<string, unknown>> = await knex.raw(`PRAGMA ${name}`);
  return Object.values(rows[0] ?? {})[0];
}

const SETTINGS = ['journal_mode', 'synchronous', 'busy_timeout', 'cache_size', 'mmap_size', 'secure_delete'] as const;

/** A better-sqlite3 connection with the embedded default's pragmas. */
const betterDefault = (filename: string): Knex =>
  knexFactory({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: { min: 1, max: 1, afterCreate: sqlitePragmaHook('better-sqlite3', DEFAULT_PRAGMAS) },
  });

/**
 * Opens `filename` once and closes it again, so that it is in WAL mode when opened next: the
 * build's WAL default applies only to a file that is already in WAL mode when it is opened.
 */
async function inWalMode(filename: string): Promise<void> {
  const knex = betterDefault(filename);
  await knex.raw('create table t (a)');
  await knex.destroy();
}

async function settings(knex: Knex): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of SETTINGS) out[name] = await pragma(knex, name);
  return out;
}

describe('the embedded default SQLite connection', () => {
  it('is set up for one writer, waiting readers, durable commits, bounded memory, and erasures that leave no bytes behind', async () => {
    const file = tempSqliteFile();
    const knex = defaultKnex(file.filename);
    try {
      expect(await settings(knex)).to.deep.equal({
        journal_mode: 'wal',
        synchronous: FULL,
        busy_timeout: 5000,
        cache_size: -8192,
        mmap_size: 67108864,
        secure_delete: 1,
      });
    } finally {
      await knex.destroy();
      file.cleanup();
    }
  });

  it('has the same settings through better-sqlite3, whose build would sync less in WAL mode', async () => {
    const file = tempSqliteFile();
    const reference = defaultKnex(file.filename);
    const other = tempSqliteFile();
    await inWalMode(other.filename);
    const better = betterDefault(other.filename);
    try {
      const expected = await settings(reference);
      expect(await settings(better)).to.deep.equal(expected);
      expect(expected.synchronous).to.equal(FULL);
    } finally {
      await reference.destroy();
      await better.destroy();
      file.cleanup();
      other.cleanup();
    }
  });
});

describe('the command line SQLite connections', () => {
  for (const client of ['sqlite3', 'better-sqlite3']) {
    it(`sync every commit and overwrite deleted content (${client})`, async () => {
      const file = tempSqliteFile();
      await inWalMode(file.filename);
      const knex = openKnex({ client, connection: file.filename, tablePrefix: 'consent_' }, true);
      try {
        expect(await pragma(knex, 'synchronous')).to.equal(FULL);
        expect(await pragma(knex, 'secure_delete')).to.equal(1);
      } finally {
        await knex.destroy();
        file.cleanup();
      }
    });
  }
});

describe('SQLite connections opened while another process holds the file', () => {
  /**
   * A rollback-journal file held exclusively by another process for `ms` (within one process
   * the drivers' two copies of SQLite do not see each other's locks).
   */
  async function heldFor(filename: string, ms: number): Promise<{ released: Promise<void> }> {
    const script = `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
      db.exec('create table if not exists t (a)'); db.exec('begin exclusive'); process.stdout.write('held\\n');
      setTimeout(() => { db.exec('commit'); db.close(); }, ${String(ms)});`;
    const child = spawn(process.execPath, ['-e', script, filename], { stdio: ['ignore', 'pipe', 'inherit'] });
    const released = new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => { if (code === 0) resolve(); else reject(new Error(`the holder exited with ${String(code)}`)); });
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => { resolve(); });
      released.catch(reject);
    });
    return { released };
  }

  const opened = {
    'the embedded default': (filename: string) => defaultKnex(filename),
    'a command': (filename: string) => openKnex({ url: filename, tablePrefix: 'consent_' }),
  };
  for (const [name, open] of Object.entries(opened)) {
    it(`wait for it (${name}): the busy timeout is set before any pragma that reads the file`, async () => {
      const file = tempSqliteFile();
      const { released } = await heldFor(file.filename, 2_000);
      const knex = open(file.filename);
      try {
        // The driver's own wait is 1 s; the pragmas after the busy timeout wait up to 5 s.
        expect(await knex.raw('select count(*) as n from t')).to.deep.equal([{ n: 0 }]);
      } finally {
        await released;
        await knex.destroy();
        file.cleanup();
      }
    });
  }
});
