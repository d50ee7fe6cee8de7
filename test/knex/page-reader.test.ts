import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { readJsonPage } from '../../lib/knex/json-page';
import { PageReader, pageReaders } from '../../lib/knex/page-reader';
import { pageColumns } from '../../lib/knex/rows';
import { SqliteFile } from '../../lib/knex/sqlite-file';
import { openSqlitePages } from '../../lib/knex/sqlite-pages';
import { pageThreads } from '../../lib/knex/thread-pages';
import { countStatements } from '../helpers/count-statements';
import { allStoredRecords, changeRecord } from '../helpers/records';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { skipBecause } from '../helpers/skip';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'page-reader-secret-0123456789abcdef0123456';
// A page read as one JSON text: the statements the reader runs on its own connections.
const JSON_PAGE = /json_group_array|json_agg/i;

describeEachDatabase('store-wide scans on connections of their own', (open) => {
  let db: TestDatabase;
  let knex: Knex;
  let consent: Consent;
  let tracker: KnexTracker;
  const saved = { ...pageReaders };
  const savedScript = pageThreads.script;

  beforeEach(async () => {
    db = await open();
    knex = db.knex;
    tracker = new KnexTracker(knex);
    consent = createConsent({ tracker, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register(['a', 'b'].map((id) => ({ id, title: id, description: id })));
    await consent.ready();
    for (let i = 0; i < 12; i += 1) await consent.record(`s${String(i)}`, { a: i % 3 ? 'granted' : 'denied', b: 'granted' });
    pageReaders.minRows = 0;
  });

  afterEach(async () => {
    Object.assign(pageReaders, saved);
    pageThreads.script = savedScript;
    await consent.close();
    await db.release();
  });

  const audienceOf = async (): Promise<string[]> => {
    const ids: string[] = [];
    for await (const id of consent.audience('a')) ids.push(id);
    return ids.sort();
  };
  const filteredOf = async (): Promise<string[]> => {
    const ids: string[] = [];
    for await (const id of consent.filterAllowed(Array.from({ length: 2500 }, (_, i) => `s${String(i % 13)}`), 'a')) ids.push(id);
    return ids;
  };

  it('verifies, lists audiences and filters long lists of ids on its own connections (SQLite files), with the same answers', async function () {
    const sqlite = tracker.pages !== undefined;
    pageReaders.minRows = Infinity;
    const plain = { verify: await consent.verify(), audience: await audienceOf(), filtered: await filteredOf() };
    pageReaders.minRows = 0;
    const opened = pageReaders.opened;
    const onKnex = countStatements(knex, JSON_PAGE);
    const verified = await consent.verify();
    const listed = await audienceOf();
    const filtered = await filteredOf();
    onKnex.stop();
    expect(verified).to.deep.equal(plain.verify);
    expect(verified).to.deep.include({ ok: true, checked: 24 });
    expect(listed).to.deep.equal(plain.audience).and.have.length(8);
    expect(filtered).to.deep.equal(plain.filtered).and.have.length(1538);
    if (sqlite) {
      expect(pageReaders.opened - opened).to.equal(1, 'one runner serves the scans and the lookups');
      expect(onKnex.n).to.equal(0, 'no page went through the application\'s connection');
    } else {
      expect(onKnex.n).to.be.above(0, 'PostgreSQL reads through its pool');
    }
  });

  it('sees a write the moment it is committed, and a changed row as verify() does without it', async () => {
    await consent.verify();
    await consent.record('late', { a: 'granted' });
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 25 });
    expect(await audienceOf()).to.include('late');
    const denied = (await allStoredRecords(knex)).filter((r) => r.requirement === 'a' && r.decision === 'denied');
    expect(denied).to.have.length(4);
    for (const r of denied) await changeRecord(knex, Buffer.from(r.chain, 'hex'), 'a', { decision: 'granted' });
    const tampered = await consent.verify();
    expect(tampered.ok).to.equal(false);
    expect(tampered.problems.map((p) => p.kind)).to.include('state_mismatch');
  });

  it('reads a page the usual way when its runner fails or stopped', async () => {
    const failing = new PageReader(() =>
      Promise.resolve({ alive: true, page: () => Promise.reject(new Error('no')), close: () => Promise.resolve() }));
    const stopped = new PageReader(() =>
      Promise.resolve({ alive: false, page: () => Promise.reject(new Error('stopped')), close: () => Promise.resolve() }));
    const query = knex('consent_subjects').orderBy('chain').limit(100);
    const columns = pageColumns(knex, ['chain', 'head_id']);
    const inOrder = (a: unknown[], b: unknown[]): boolean => (a[0] as string) < (b[0] as string);
    const plain = await readJsonPage({ knex }, query, columns, inOrder);
    expect(plain).to.have.length(12);
    expect(await readJsonPage({ knex, pages: failing }, query, columns, inOrder)).to.deep.equal(plain);
    expect(await readJsonPage({ knex, pages: stopped }, query, columns, inOrder)).to.deep.equal(plain);
    expect(await stopped.runner()).to.equal(null);
    await failing.close();
    expect(await failing.runner()).to.equal(null, 'closed');
  });

  it('verifies the same when the thread cannot start', async () => {
    pageThreads.script = new URL('file:///nonexistent/page-worker.js');
    expect(await consent.verify()).to.deep.include({ ok: true, checked: 24 });
    expect(await audienceOf()).to.have.length(8);
  });

  it('keeps its statements prepared without holding the file: a checkpoint still empties the log', async () => {
    if (tracker.pages !== undefined) await knex.raw('PRAGMA journal_mode = WAL');
    const runner = await openSqlitePages(knex, () => new SqliteFile(knex).identify());
    if (runner === null) {
      expect(tracker.pages).to.equal(undefined, 'PostgreSQL reads through its pool');
      return;
    }
    try {
      // More distinct statements than a connection keeps, each asked twice: the ones let go answer again.
      for (let round = 0; round < 2; round += 1) {
        for (let n = 1; n <= 40; n += 1) expect(await runner.page(`select count(*) + ${String(n)} from consent_subjects`, [])).to.equal(12 + n);
      }
      const page = 'select json_group_array(hex(chain)) from (select chain from consent_subjects where chain > ? order by chain limit 5)';
      expect(JSON.parse((await runner.page(page, [Buffer.alloc(0)])) as string)).to.have.length(5);
      let refused: unknown = null;
      await runner.page('select nothing from nowhere', []).catch((error: unknown) => { refused = error; });
      expect(refused, 'a statement that does not prepare fails its page').to.be.an('error');
      expect(await runner.page('select count(*) from consent_subjects', [])).to.equal(12);
      // Every statement ran to its end: none keeps a snapshot that would stop the checkpoint.
      await consent.record('after-the-pages', { a: 'granted' });
      const [checkpoint] = await knex.raw<Array<{ busy: number; log: number }>>('PRAGMA wal_checkpoint(TRUNCATE)');
      expect(checkpoint).to.deep.include({ busy: 0, log: 0 });
      expect(await runner.page('select count(*) from consent_subjects', [])).to.equal(13);
    } finally {
      await runner.close();
    }
    expect(runner.alive).to.equal(false);
  });

  it('closes its connections when idle and with the tracker', async () => {
    const opened = (): ReturnType<SqliteFile['identify']> => new SqliteFile(knex).identify();
    const runner = await openSqlitePages(knex, opened);
    if (runner === null) {
      expect(tracker.pages).to.equal(undefined, 'PostgreSQL reads through its pool');
      return;
    }
    let refused: unknown = null;
    await runner.page('delete from consent_meta', []).catch((error: unknown) => { refused = error; });
    expect(refused, 'its connections only read').to.be.an('error');
    expect(await knex('consent_meta').count({ n: '*' })).to.deep.equal([{ n: 3 }]);
    await runner.close();
    expect(runner.alive).to.equal(false);
    await consent.verify();
    const trackers = await tracker.pages?.runner();
    expect(trackers?.alive).to.equal(true);
    await tracker.close();
    expect(trackers?.alive).to.equal(false, 'closed with the tracker');
    pageReaders.idleMs = 20;
    const reader = new PageReader(() => openSqlitePages(knex, opened));
    reader.read(1);
    const first = await reader.runner();
    expect(first?.alive).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 80));
    reader.read(1);
    const second = await reader.runner();
    expect(first?.alive).to.equal(false, 'the idle runner was closed');
    expect(second?.alive).to.equal(true, 'and another opened');
    await reader.close();
    expect(await reader.runner()).to.equal(null);
  });
}, { betterSqlite: true });

describe('the page thread of better-sqlite3 and the SQLite it loads', () => {
  const saved = { ...pageReaders };
  const files: Array<{ remove(): void }> = [];
  afterEach(() => {
    Object.assign(pageReaders, saved);
    for (const file of files.splice(0)) file.remove();
  });

  // The addon as `better-sqlite3` finds it by default, named explicitly as an application may.
  const addon = createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');

  async function pagesOnKnex(nativeBinding: unknown): Promise<{ onKnex: number; opened: number; ok: boolean }> {
    const file = tempSqliteFile();
    files.push(file);
    const knex = knexFactory({ ...sqliteKnexConfig(file.filename), client: 'better-sqlite3', connection: { filename: file.filename, options: { nativeBinding: nativeBinding as string } } });
    const consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    try {
      consent.register({ id: 'a', title: 'a', description: 'a' });
      await consent.ready();
      for (let i = 0; i < 5; i += 1) await consent.record(`s${String(i)}`, { a: 'granted' });
      pageReaders.minRows = 0;
      const opened = pageReaders.opened;
      const onKnex = countStatements(knex, JSON_PAGE);
      const { ok } = await consent.verify();
      onKnex.stop();
      return { onKnex: onKnex.n, opened: pageReaders.opened - opened, ok };
    } finally {
      await consent.close();
      await knex.destroy();
    }
  }

  it('loads the addon the application named (a path), never a second copy of SQLite', async function () {
    if (!existsSync('/proc/self/maps')) skipBecause(this, 'the check reads /proc/self/maps, which only Linux has');
    // A copy of the addon at a path of its own, in a process that never loaded the default one.
    const dir = mkdtempSync(join(tmpdir(), 'ec-addon-'));
    try {
      const copy = join(dir, 'sqlite-copy.node');
      copyFileSync(addon, copy);
      const script = join(dir, 'run.mts');
      writeFileSync(script, `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const knexFactory = createRequire(${JSON.stringify(join(repo, 'package.json'))})('knex');
import { createConsent } from ${JSON.stringify(join(repo, 'lib/index.ts'))};
import { pageReaders } from ${JSON.stringify(join(repo, 'lib/knex/page-reader.ts'))};
const knex = knexFactory({ client: 'better-sqlite3', useNullAsDefault: true, connection: { filename: ${JSON.stringify(join(dir, 'db.sqlite3'))}, options: { nativeBinding: ${JSON.stringify(copy)} } } });
const consent = createConsent({ knex, secret: ${JSON.stringify(SECRET)}, logger: { warn() {}, error() {} } });
consent.register({ id: 'a', title: 'a', description: 'a' });
await consent.ready();
for (let i = 0; i < 5; i += 1) await consent.record('s' + i, { a: 'granted' });
pageReaders.minRows = 0;
const { ok } = await consent.verify();
const mapped = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/)[5] ?? '').filter((f) => f.endsWith('.node') && /sqlite/.test(f)))];
console.log(JSON.stringify({ ok, opened: pageReaders.opened, mapped }));
await consent.close();
await knex.destroy();
`);
      const out = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: repo, encoding: 'utf8' });
      expect(JSON.parse(out.trim().split('\n').at(-1) as string)).to.deep.equal({ ok: true, opened: 1, mapped: [copy] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has no thread when the application handed the driver a loaded addon, and reads the usual way', async () => {
    const loaded = createRequire(import.meta.url)(addon) as unknown;
    const result = await pagesOnKnex(loaded);
    expect(result).to.deep.include({ opened: 0, ok: true });
    expect(result.onKnex).to.be.above(0);
  });
});

describe('the readers of an SQLite file, as an operator and a host use them', () => {
  const saved = { ...pageReaders };
  let file: ReturnType<typeof tempSqliteFile>;
  let knex: Knex;
  let consent: Consent;

  beforeEach(async () => {
    file = tempSqliteFile();
    knex = knexFactory(sqliteKnexConfig(file.filename));
    consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register({ id: 'a', title: 'a', description: 'a' });
    await consent.ready();
  });

  afterEach(async () => {
    Object.assign(pageReaders, saved);
    await consent.close();
    await knex.destroy();
    file.remove();
  });

  const audienceOf = async (): Promise<string[]> => {
    const ids: string[] = [];
    for await (const id of consent.audience('a')) ids.push(id);
    return ids.sort();
  };

  /**
   * Four grants, a copy of the file, then s0's withdrawal; the copy is then moved into the
   * file's place while the process runs (the restore production.md describes).
   */
  async function restoreMovedIntoPlace(): Promise<void> {
    for (let i = 0; i < 4; i += 1) await consent.record(`s${String(i)}`, { a: 'granted' });
    const backup = join(file.filename, '..', 'backup.sqlite3');
    await knex.raw('vacuum into ?', [backup]);
    await consent.record('s0', { a: 'denied' });
    await knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    renameSync(backup, file.filename);
  }

  it('answers an audience from the file this process has open, after a restore was moved into place', async () => {
    await restoreMovedIntoPlace();
    pageReaders.minRows = Infinity;
    const onOwnConnection = await audienceOf();
    expect(onOwnConnection).to.deep.equal(['s1', 's2', 's3']);
    pageReaders.minRows = 0;
    await audienceOf(); // counts rows; the next scan opens the readers
    expect(await audienceOf(), 's0 withdrew on the file the process serves').to.deep.equal(onOwnConnection);
  });

  it('verifies the file this process has open, after a restore was moved into place', async () => {
    await restoreMovedIntoPlace();
    pageReaders.minRows = Infinity;
    const plain = await consent.verify();
    expect(plain).to.deep.include({ ok: true, checked: 5 });
    pageReaders.minRows = 0;
    await consent.verify();
    const withReaders = await consent.verify();
    expect({ ok: withReaders.ok, checked: withReaders.checked, problems: withReaders.problems.map((p) => p.kind) }).to.deep.equal({ ok: true, checked: 5, problems: [] });
  });

  it('reads one subject\'s receipt on the application\'s connection, not on a reader started for it', async () => {
    for (let i = 0; i < 4; i += 1) await consent.record(`s${String(i)}`, { a: 'granted' });
    pageReaders.minRows = 0;
    const opened = pageReaders.opened;
    await consent.receipt('s1');
    expect(pageReaders.opened - opened, 'runners opened by a receipt').to.equal(0);
  });

  it('lets a process that never closes its tracker exit once its work is done (better-sqlite3)', function () {
    this.timeout(60_000);
    const dir = join(file.filename, '..');
    const script = join(dir, 'run.mts');
    writeFileSync(script, `
import { createRequire } from 'node:module';
const knexFactory = createRequire(${JSON.stringify(join(repo, 'package.json'))})('knex');
import { createConsent } from ${JSON.stringify(join(repo, 'lib/index.ts'))};
import { pageReaders } from ${JSON.stringify(join(repo, 'lib/knex/page-reader.ts'))};
const knex = knexFactory({ client: 'better-sqlite3', useNullAsDefault: true, connection: { filename: ${JSON.stringify(join(dir, 'exit.sqlite3'))} } });
const consent = createConsent({ knex, secret: ${JSON.stringify(SECRET)}, logger: { warn() {}, error() {} }, cache: false });
consent.register({ id: 'a', title: 'a', description: 'a' });
await consent.ready();
for (let i = 0; i < 5; i += 1) await consent.record('s' + i, { a: 'granted' });
pageReaders.minRows = 0;
const { ok } = await consent.verify();
await knex.destroy();
console.log(JSON.stringify({ ok, opened: pageReaders.opened, at: Date.now() }));
`);
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: repo, encoding: 'utf8' });
    const printed = JSON.parse(out.trim().split('\n').at(-1) as string) as { ok: boolean; opened: number; at: number };
    expect(printed).to.deep.include({ ok: true, opened: 1 });
    expect(Date.now() - printed.at, 'ms from the last line to exit').to.be.below(3000);
  });
});

describe('a page thread that fails at its start', () => {
  const saved = { ...pageReaders };
  const savedScript = pageThreads.script;
  afterEach(() => {
    Object.assign(pageReaders, saved);
    pageThreads.script = savedScript;
  });

  it('is started once, not once per page', async () => {
    const file = tempSqliteFile();
    const knex = knexFactory({ ...sqliteKnexConfig(file.filename), client: 'better-sqlite3' });
    const consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    try {
      consent.register({ id: 'a', title: 'a', description: 'a' });
      await consent.ready();
      const at = Date.now() - 60_000;
      await consent.import(Array.from({ length: 6000 }, (_, i) => ({ subjectId: `u${String(i)}`, requirement: 'a', decision: 'granted', at })));
      pageReaders.minRows = 0;
      // A thread whose script throws at once, as one whose driver cannot open the file read-only would.
      pageThreads.script = new URL('file:///nonexistent/page-worker.js');
      const opened = pageReaders.opened;
      expect(await consent.verify()).to.deep.include({ ok: true, checked: 6000 });
      expect(pageReaders.opened - opened, 'threads started').to.be.at.most(1);
    } finally {
      await consent.close();
      await knex.destroy();
      file.remove();
    }
  });
});
