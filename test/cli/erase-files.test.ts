import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { defaultKnex } from '../../lib/knex/default-knex';
import { buildCli, CLI, runCli, SECRET } from '../helpers/cli';
import { tempSqliteFile } from '../helpers/databases';

const NOTE = 'cli-erase-note-called-about-ticket-4711';
const ACTOR = 'cli-erase-actor-support-agent-jane';
const DATA_VALUE = 'cli-erase-data-phone-line-3';

/** Which of the needles the database file or its WAL still holds. */
function found(filename: string, needles: string[]): string[] {
  const hits: string[] = [];
  for (const path of [filename, `${filename}-wal`]) {
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    for (const needle of needles) if (bytes.includes(Buffer.from(needle, 'utf8'))) hits.push(`${needle} in ${path.slice(-20)}`);
  }
  return hits;
}

/** The application's side: the library's default connection to `filename` (secure_delete, WAL), one requirement. */
async function newsConsent(filename: string): Promise<{ knex: Knex; consent: Consent }> {
  const knex = defaultKnex(filename);
  const consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
  consent.register({ id: 'news', title: 'News', description: 'A letter.' });
  await consent.ready();
  return { knex, consent };
}

describe('express-consent erase on an SQLite file leaves no recoverable bytes', () => {
  before(async function () {
    this.timeout(180_000);
    await buildCli();
  });

  for (const driver of ['sqlite3', 'better-sqlite3'] as const) {
    it(`through the ${driver} driver`, async () => {
      const file = tempSqliteFile();
      try {
        // Written by the library's default connection (secure_delete from the first write, WAL);
        // the erasure is the command's own.
        const { knex, consent } = await newsConsent(file.filename);
        for (let i = 0; i < 10; i += 1) {
          await consent.record('alice', { news: i % 2 ? 'denied' : 'granted' }, { actor: ACTOR, note: `${NOTE}-${String(i)}`, data: { k: DATA_VALUE } });
        }
        await consent.record('bob', { news: 'granted' }, { note: 'bob-keeps-his-note' });
        await consent.close();
        await knex.destroy();
        const needles = [NOTE, ACTOR, DATA_VALUE];
        expect(found(file.filename, needles)).to.have.length(3);
        const args = driver === 'sqlite3'
          ? ['--url', `sqlite:${file.filename}`]
          : ['--client', 'better-sqlite3', '--connection', file.filename];
        const run = await runCli([...args, 'erase', 'alice']);
        expect(run.code, run.stderr).to.equal(0);
        expect(found(file.filename, needles)).to.deep.equal([]);
        expect(found(file.filename, ['bob-keeps-his-note'])).to.have.length(1);
      } finally {
        file.cleanup();
      }
    });
  }
});

/** Resolves once process `pid` holds `filename` open (Linux: its /proc/<pid>/fd links). */
async function opened(pid: number, filename: string): Promise<void> {
  for (;;) {
    let links: string[] = [];
    try {
      links = readdirSync(`/proc/${String(pid)}/fd`).map((fd) => { try { return readlinkSync(`/proc/${String(pid)}/fd/${fd}`); } catch { return ''; } });
    } catch {
      return; // gone already: its exit code tells
    }
    if (links.includes(filename)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('express-consent on an SQLite file the application is writing', () => {
  before(async function () {
    this.timeout(180_000);
    await buildCli();
  });

  it('waits for the application\'s write, as the application waits for others, instead of failing after a second', async () => {
    const file = tempSqliteFile();
    try {
      const { knex, consent } = await newsConsent(file.filename);
      await consent.record('alice', { news: 'granted' });
      // The application holds the write lock until 2.5 s after the command opened the file: the
      // command meets it (it writes as it opens the database) and must wait, not fail at 1 s.
      await knex.raw('BEGIN IMMEDIATE');
      const child = spawn(CLI, ['--url', `sqlite:${file.filename}`, 'erase', 'alice'], { env: { ...process.env, CONSENT_SECRET: SECRET } });
      let stderr = '';
      child.stderr.on('data', (chunk) => { stderr += String(chunk); });
      const code = new Promise<number | null>((resolve) => { child.on('exit', resolve); });
      await opened(child.pid as number, realpathSync(file.filename));
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await knex.raw('COMMIT');
      expect(await code, stderr).to.equal(0);
      expect(await consent.states('alice')).to.have.nested.property('news.state', 'unset');
      await consent.close();
      await knex.destroy();
    } finally {
      file.cleanup();
    }
  });
});
