import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import knexFactory from 'knex';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { expectAcknowledgedOnce, expectTablesIntact, send, writesFor, type Answer } from './load';

const SCRIPT = fileURLToPath(new URL('./fixtures/crash-app.ts', import.meta.url));

/** Starts the app on `file` in its own process and resolves once it listens. */
function start(file: string, driver: string): Promise<{ child: ChildProcess; base: string }> {
  const env = { ...process.env, CRASH_DB: file, CRASH_DRIVER: driver };
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve({ child, base: `http://127.0.0.1:${String(match[1])}/consent` });
    });
    child.on('exit', (code) => { reject(new Error(`the app exited (${String(code)}) before listening`)); });
  });
}

function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => { resolve(); });
    child.kill(signal);
  });
}

for (const driver of ['sqlite3', 'better-sqlite3']) describe(`SIGKILL in the middle of a write load (SQLite file, ${driver})`, function (this: Mocha.Suite) {
  this.timeout(120_000);

  it('keeps every acknowledged write and an intact chain after a restart on the same file', async () => {
    const file = tempSqliteFile();
    let app = await start(file.filename, driver);
    try {
      const subjects = Array.from({ length: 8 }, (_, i) => `crash-${String(i)}`);
      const answers: Answer[] = [];
      let acknowledged = 0;
      let dead = false;
      const kill = (async () => {
        while (acknowledged < 80) await new Promise((resolve) => setTimeout(resolve, 5));
        dead = true;
        await killed(app.child, 'SIGKILL');
      })();
      // Each subject writes sequentially; the subjects write in parallel with one another.
      await Promise.all(subjects.map(async (subject) => {
        for (const write of writesFor(subject, 'analytics', 400, 'crash/')) {
          const answer = await send(app.base, write);
          answers.push(answer);
          if (answer.status === 200) acknowledged += 1;
          else if (!dead) expect.fail(`status ${String(answer.status)} before the kill`);
          if (answer.status === 0) break;
        }
      }));
      await kill;
      expect(app.child.signalCode).to.equal('SIGKILL');
      expect(answers.filter((a) => a.status === 0).length, 'writes cut off by the kill').to.be.greaterThan(0);

      app = await start(file.filename, driver);
      for (const subject of subjects) {
        const res = await fetch(`${app.base}/me/history?limit=200`, { headers: { 'x-test-user': subject } });
        const { events, nextCursor } = (await res.json()) as { events: Array<{ requirement: string; state: string; note: string | null }>; nextCursor: string | null };
        expect(nextCursor).to.equal(null);
        const me = (await (await fetch(`${app.base}/me`, { headers: { 'x-test-user': subject } })).json()) as { states: Record<string, { state: string }> };
        expectAcknowledgedOnce(answers.filter((a) => a.subject === subject), events, me.states.analytics?.state as string);
      }
      await killed(app.child, 'SIGTERM');
      const knex = knexFactory(sqliteKnexConfig(file.filename));
      try {
        await expectTablesIntact(knex);
        const count = await knex('consent_events').count({ n: '*' }).first();
        expect(Number(count?.n)).to.be.at.least(acknowledged);
      } finally {
        await knex.destroy();
      }
    } finally {
      await killed(app.child, 'SIGKILL');
      file.cleanup();
    }
  });
});
