import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../docs/doc-files';

const MOCHA = join(repoRoot, 'node_modules/mocha/bin/mocha.js');

/** Runs a command in the repository with the project's mocha configuration, and the totals it wrote. */
function run(command: string, args: string[]): Promise<{ code: number; output: string; totals: unknown[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'express-consent-reporter-'));
  const summary = join(dir, 'totals.jsonl');
  return new Promise((resolve) => {
    // Without colours, so that the output can be matched as text.
    const env = { ...process.env, CONSENT_TEST_SUMMARY: summary, FORCE_COLOR: '0', NO_COLOR: '1' };
    execFile(command, args, { cwd: repoRoot, env, timeout: 60_000 }, (error, stdout, stderr) => {
      let totals: unknown[] = [];
      try {
        totals = readFileSync(summary, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as unknown);
      } catch {
        // No totals written: the assertions below say so.
      }
      rmSync(dir, { recursive: true, force: true });
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, output: stdout + stderr, totals });
    });
  });
}

describe('the test reporter and the mocha configuration', function () {
  this.timeout(120_000);

  it('report skipped tests as skipped, each with the reason given where it was skipped', async () => {
    const { code, output, totals } = await run(process.execPath, [MOCHA, 'test/tooling/fixtures/skips.fixture.ts']);
    expect(code, output).to.equal(0);
    expect(output).not.to.match(/pending/i);
    expect(output).to.include('- skips itself (skipped: a reason given in a test)');
    expect(output).to.include('fixture: a suite skipped whole (skipped: a reason given for a suite)');
    expect(output).to.include('- four (skipped)');
    for (const line of ['1 skipped: a reason given in a test', '2 skipped: a reason given for a suite', '1 skipped: a reason given in a hook', '1 skipped: no reason given']) {
      expect(output).to.include(line);
    }
    expect(output).to.include('1 passing');
    expect(totals).to.deep.equal([{ passed: 1, failed: 0, skipped: 5, failures: [] }]);
  });

  it('count a failing test and a failing hook as failures, and exit non-zero', async () => {
    const { code, output, totals } = await run(process.execPath, [MOCHA, 'test/tooling/fixtures/failures.fixture.ts']);
    expect(code).to.equal(2);
    expect(output).to.include('2 failing').and.to.include('the hook fails');
    expect(totals).to.have.length(1);
    const [line] = totals as { passed: number; failed: number; skipped: number; failures: string[] }[];
    expect(line).to.include({ passed: 0, failed: 2, skipped: 0 });
    // Each failure is named with its file and first message line, for the end of the CI log.
    expect(line?.failures).to.have.length(2);
    for (const failure of line?.failures ?? []) expect(failure).to.match(/^test\/tooling\/fixtures\/failures\.fixture\.ts: .+: .+/);
  });

  it('run only the files named, through npx mocha or npm test, instead of the whole suite', async () => {
    for (const [command, args] of [
      [process.execPath, [MOCHA, 'test/tooling/fixtures/skips.fixture.ts', 'test/tooling/fixtures/failures.fixture.ts']],
      ['npm', ['test', '--', 'test/tooling/fixtures/skips.fixture.ts', 'test/tooling/fixtures/failures.fixture.ts']],
    ] as const) {
      const { output, totals } = await run(command, [...args]);
      const [line, ...rest] = totals as { passed: number; failed: number; skipped: number }[];
      expect(rest, output).to.deep.equal([]);
      expect(line, output).to.include({ passed: 1, failed: 2, skipped: 5 });
    }
  });

  it('print the slowest test files when asked', async () => {
    const { output } = await run('env', ['CONSENT_TEST_TIMINGS=5', process.execPath, MOCHA, 'test/tooling/fixtures/skips.fixture.ts']);
    expect(output).to.match(/slowest test files \(of \d+ms in suites\):\n\s+\d+ms {2}test\/tooling\/fixtures\/skips\.fixture\.ts/);
  });
});
