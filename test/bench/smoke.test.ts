import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describePg } from '../helpers/databases';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
const TINY = ['--tiny', '--rounds', '1', '--duration', '0.2', '--events', '400', '--subjects', '300'];

/** Runs `npm run bench` at a tiny size; figures at this size mean nothing and are not checked. */
async function bench(extra: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, ...TINY, ...extra], {
    env: { ...process.env, CONSENT_TEST_PG_URL: '' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

function summaryRows(stdout: string): string[] {
  const summary = stdout.slice(stdout.indexOf('### Summary'));
  return summary.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| target'));
}

describe('bench scripts (tiny smoke run)', function () {
  this.timeout(120_000);

  it('print a summary table with every SQLite target, and the query plans', async () => {
    const stdout = await bench(['--sqlite-only']);
    expect(stdout).to.include('| target | required | figure | pass | raw figures |');
    const rows = summaryRows(stdout);
    for (const target of ['guard, warm cache / bare (SQLite)', 'guard, cache disabled / bare (SQLite)', 'guard, visitor cookie, warm cache / bare route reading the cookie (SQLite)', 'PUT /me/:id', 'state lookup', 'import of', 'audience() over 300 subjects (SQLite)', 'filterAllowed() over 300 ids (SQLite)']) {
      expect(rows.some((row) => row.includes(target)), target).to.equal(true);
    }
    // better-sqlite3 is a dev dependency: its figures are reported beside the default driver's.
    const better = rows.filter((row) => row.includes('(SQLite, better-sqlite3)'));
    for (const target of ['guard, warm cache', 'guard, cache disabled', 'PUT /me/:id', 'state lookup', 'import of', 'verify() over']) {
      expect(better.some((row) => row.includes(target)), `${target} (better-sqlite3)`).to.equal(true);
    }
    expect(stdout).to.match(/SEARCH s USING INDEX consent_subjects_pseudonym_unique/);
    expect(rows.some((row) => row.includes('withdrawal seen by 2 other processes (one SQLite file')), 'SQLite propagation').to.equal(true);
    expect(rows.some((row) => row.includes('store reads per 1,000 guarded requests')), 'store reads').to.equal(true);
  });

  it('print bytes on disk per subject and per event (bench/disk.ts)', async () => {
    const disk = fileURLToPath(new URL('../../bench/disk.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', disk, '--sqlite-only', '--after-only', '--subjects', '300', '--events', '1000'], {
      env: { ...process.env, CONSENT_TEST_PG_URL: '' },
    });
    expect(stdout).to.match(/\| bytes per subject \(one decision\) \(SQLite\) \| ≤ 425 \| \d+ \|/);
    expect(stdout).to.match(/\| bytes per event \(ten per subject\) \(SQLite\) \| ≤ 400 \| \d+ \|/);
  });

  it('print expiries recorded per second by one sweep (bench/sweep.ts)', async () => {
    const sweep = fileURLToPath(new URL('../../bench/sweep.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', sweep, '--subjects', '300'], { env: { ...process.env, CONSENT_TEST_PG_URL: '' } });
    expect(stdout).to.match(/\| SQLite \| [\d,]+\/s \|/);
  });

  it('print writes, import and verify() before and after the integrity proof (bench/integrity-cost.ts)', async () => {
    const cost = fileURLToPath(new URL('../../bench/integrity-cost.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', cost, '--tiny', '--sqlite-only', '--decisions', '400'], {
      env: { ...process.env, CONSENT_TEST_PG_URL: '' },
    });
    expect(stdout).to.match(/\| PUT \/me\/:id, after \/ before \(SQLite\) \| ≥ 0\.9 \| [\d.]+ \|/);
    expect(stdout).to.match(/\| import\(\), after \/ before \(SQLite\) \| ≥ 0\.9 \| [\d.]+ \|/);
    expect(stdout).to.match(/\| verify\(\) over 400 events, after \(SQLite\) \| ≥ 100,000\/s \| [\d,]+\/s \| (yes|NO) \| median of 1; every store verified ok \|/);
  });
});

describePg('bench scripts on PostgreSQL (tiny smoke run)', () => {

  it('add the PostgreSQL rows and the propagation distribution', async function () {
    this.timeout(180_000);
    const stdout = await bench(['--pg-only', '--pg', process.env.CONSENT_TEST_PG_URL as string]);
    const rows = summaryRows(stdout);
    for (const target of ['guard, warm cache / bare (PostgreSQL)', 'PUT /me/:id / bare insert in a transaction (PostgreSQL)', 'state lookup', 'withdrawal seen by 2 other processes']) {
      expect(rows.some((row) => row.includes(target)), target).to.equal(true);
    }
    expect(stdout).to.match(/p50 [\d.]+ ms, p90/);
  });
});
