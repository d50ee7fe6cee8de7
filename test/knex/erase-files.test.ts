import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { defaultKnex } from '../../lib/knex/default-knex';
import { waitUntil } from '../core/wait-until';
import { createPgDatabase, describePg, pgKnexConfig, tempSqliteFile } from '../helpers/databases';
import { skipBecause } from '../helpers/skip';

const SECRET = 'erase-files-secret-0123456789abcdef0123';
const SUBJECT = 'subject-id-7f3a91-erase-files';
const NOTE = 'note-called-about-ticket-4711-at-home';
const ACTOR = 'actor-support-agent-jane-q-public';
const DATA_VALUE = 'data-phone-line-3-hidden-value';
// Large enough for overflow pages: freed overflow pages must be wiped too.
const BIG_VALUE = `big-data-${'x9'.repeat(1500)}`;
const IP = '198.51.100.0';
const UA = 'ErasureFilesAgent/4.2';
const quiet = { warn() {}, error() {} };

/** The documented advice for a host's own Knex on SQLite (README, SECURITY.md). */
function hostSqlite3(filename: string): Knex {
  return knexFactory({
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.run('PRAGMA secure_delete = ON', (err) => { done(err, conn); });
      },
    },
  });
}

function hostBetterSqlite3(filename: string): Knex {
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        conn.pragma('journal_mode = WAL');
        conn.pragma('secure_delete = ON');
        done(null, conn);
      },
    },
  });
}

const CONNECTIONS: Array<{ name: string; open(filename: string): Knex }> = [
  { name: 'the library\'s default connection (sqlite3, WAL)', open: defaultKnex },
  { name: 'a host sqlite3 Knex following the advice (rollback journal)', open: hostSqlite3 },
  { name: 'a host better-sqlite3 Knex following the advice (WAL)', open: hostBetterSqlite3 },
];

/** The needles found in the database file and its WAL, as raw bytes. */
function found(filename: string, needles: Array<string | Buffer>): string[] {
  const hits: string[] = [];
  for (const path of [filename, `${filename}-wal`, `${filename}-journal`]) {
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    for (const needle of needles) {
      const wanted = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : needle;
      if (bytes.includes(wanted)) hits.push(`${wanted.toString('hex').slice(0, 40)} in ${path.slice(-20)}`);
    }
  }
  return hits;
}

for (const connection of CONNECTIONS) {
  describe(`erase() leaves no recoverable bytes in the SQLite files: ${connection.name}`, () => {
    let file: ReturnType<typeof tempSqliteFile>;
    let knex: Knex;
    let consent: Consent;

    beforeEach(async () => {
      file = tempSqliteFile();
      knex = connection.open(file.filename);
      consent = createConsent({ knex, secret: SECRET, logger: quiet, network: 'full' });
      consent.register([
        { id: 'a', title: 'A', description: 'A' },
        { id: 'b', title: 'B', description: 'B', doubleOptIn: true },
      ]);
      await consent.ready();
      for (let i = 0; i < 20; i += 1) {
        const decision = i % 2 === 0 ? 'granted' : 'denied';
        await consent.engine.record(SUBJECT, { a: decision, b: decision }, { actor: ACTOR, note: `${NOTE}-${String(i)}`, data: { k: DATA_VALUE, big: BIG_VALUE } }, { ip: IP, userAgent: UA });
      }
      await consent.record('someone-else', { a: 'granted' }, { note: 'kept-note-of-someone-else' });
    });

    afterEach(async () => {
      await consent.close();
      await knex.destroy().catch(() => undefined);
      file.cleanup();
    });

    it('after erase() and after close, neither the main file nor the WAL holds the subject\'s id, pseudonym, notes, data, actor or network details', async () => {
      const pseudonym = consent.engine.pseudonym(SUBJECT);
      // The pseudonym is stored as its 32 bytes.
      const needles = [SUBJECT, pseudonym, Buffer.from(pseudonym, 'hex'), NOTE, ACTOR, DATA_VALUE, BIG_VALUE.slice(0, 64), IP, UA];
      expect(found(file.filename, needles).length, 'the test data is in the files before the erasure').to.be.greaterThan(0);
      expect(await consent.erase(SUBJECT)).to.deep.equal({ events: 40 });
      expect(found(file.filename, needles)).to.deep.equal([]);
      expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
      await consent.close();
      await knex.destroy();
      expect(found(file.filename, needles)).to.deep.equal([]);
      expect(found(file.filename, ['kept-note-of-someone-else'])).to.have.length.greaterThan(0);
    });
  });
}

describePg('erase() on PostgreSQL: no row keeps the erased fields, and after VACUUM FULL no table file does', () => {
  let database: Awaited<ReturnType<typeof createPgDatabase>>;
  let knex: Knex;
  let consent: Consent;

  beforeEach(async () => {
    database = await createPgDatabase();
    knex = knexFactory(pgKnexConfig(database.url));
    consent = createConsent({ knex, secret: SECRET, logger: quiet, network: 'full' });
    consent.register([{ id: 'a', title: 'A', description: 'A' }]);
    await consent.ready();
    for (let i = 0; i < 20; i += 1) {
      await consent.engine.record(SUBJECT, { a: i % 2 ? 'denied' : 'granted' }, { actor: ACTOR, note: `${NOTE}-${String(i)}`, data: { k: DATA_VALUE, big: BIG_VALUE } }, { ip: IP, userAgent: UA });
    }
    await consent.record('someone-else', { a: 'granted' }, { note: 'kept-note-of-someone-else' });
  });

  afterEach(async () => {
    await consent.close();
    await knex.destroy();
    await database.drop();
  });

  const tables = async (): Promise<string[]> =>
    ((await knex.raw("select tablename from pg_tables where schemaname = 'public' and tablename like 'consent\\_%'")).rows as Array<{ tablename: string }>)
      .map((r) => r.tablename);

  /** Every row of every consent table, as text. */
  const rows = async (): Promise<string> => {
    const out: unknown[] = [];
    for (const table of await tables()) out.push(await knex(table).select());
    return JSON.stringify(out);
  };

  /** The bytes of every file of the consent tables: heap, TOAST and indexes (superuser only). */
  const files = async (): Promise<Buffer> => {
    await knex.raw('CHECKPOINT');
    const { rows: relations } = await knex.raw(`
      select pg_relation_filepath(c.oid) as path from pg_class c
      where c.relkind in ('r', 'i', 't') and pg_relation_filepath(c.oid) is not null and (
        c.relname like 'consent\\_%'
        or c.oid in (select reltoastrelid from pg_class where relname like 'consent\\_%')
        or c.oid in (select i.indexrelid from pg_index i join pg_class t on t.reltoastrelid = i.indrelid where t.relname like 'consent\\_%'))`);
    const parts: Buffer[] = [];
    for (const { path } of relations as Array<{ path: string }>) {
      const { rows: bytes } = await knex.raw('select pg_read_binary_file(?) as b', [path]);
      parts.push((bytes[0] as { b: Buffer }).b);
    }
    return Buffer.concat(parts);
  };

  it('removes them from every row at once; VACUUM FULL (the documented advice) removes the old row versions from the files', async function () {
    const pseudonym = consent.engine.pseudonym(SUBJECT);
    const needles = [SUBJECT, pseudonym, Buffer.from(pseudonym, 'hex'), NOTE, ACTOR, DATA_VALUE, IP, UA];
    const { rows: role } = await knex.raw('select rolsuper from pg_roles where rolname = current_user');
    const superuser = (role[0] as { rolsuper: boolean }).rolsuper;
    if (superuser) expect((await files()).includes(Buffer.from(ACTOR)), 'the files are read').to.equal(true);
    expect(await consent.erase(SUBJECT)).to.deep.equal({ events: 20 });
    const text = await rows();
    expect(needles.filter((needle) => text.includes(typeof needle === 'string' ? needle : JSON.stringify(needle)))).to.deep.equal([]);
    expect(text).to.contain('kept-note-of-someone-else');
    if (!superuser) skipBecause(this, 'the PostgreSQL role is not a superuser, which reading table files needs');
    // VACUUM keeps row versions that a transaction still open in the database may see (an
    // auto-ANALYZE of the new tables, here): once none is, they are gone from the files.
    let left: string[] = [];
    await waitUntil(async () => {
      for (const table of await tables()) await knex.raw('VACUUM FULL ??', [table]);
      const after = await files();
      left = needles.filter((needle) => after.includes(typeof needle === 'string' ? Buffer.from(needle) : needle)).map(String);
      return left.length === 0 && after.includes(Buffer.from('kept-note-of-someone-else'));
    }, 'no erased bytes left in the table files after VACUUM FULL');
    expect(left).to.deep.equal([]);
    expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
  });
});
