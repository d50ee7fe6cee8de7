'use strict';
// The suite's mocha reporter: mocha's spec layout, except that a test that did not run is
// reported as "skipped" with the reason given where it was skipped (test/helpers/skip.ts), never
// as "pending", which reads like a consent state here. It also:
// - appends one JSON line of totals ({"passed":N,"failed":N,"skipped":N}) to the file named by
//   $CONSENT_TEST_SUMMARY when the run ends; .ci/run adds those lines up (one per suite run)
//   into its closing "N passed, N failed" line, so the totals come from the runner's own events
//   rather than from scraping the console output;
// - prints the N slowest test files (wall time of their suites, hooks included) when
//   $CONSENT_TEST_TIMINGS is N, to see where the time of a run goes.
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

const { Base } = Mocha.reporters;
const { color } = Base;
const {
  EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING,
} = Mocha.Runner.constants;

/** The reason recorded on the test or the nearest enclosing suite, if any. */
function skipReason(runnable) {
  for (let node = runnable; node; node = node.parent) {
    if (typeof node.skipReason === 'string') return node.skipReason;
  }
  return null;
}

class CiReporter extends Base {
  constructor(runner, options) {
    super(runner, options);
    const totals = { passed: 0, failed: 0, skipped: 0 };
    const reasons = new Map();
    const fileTimes = new Map();
    const suiteStarts = new Map();
    let depth = 0;
    const indent = () => '  '.repeat(Math.max(depth - 1, 0));

    runner.on(EVENT_RUN_BEGIN, () => { Base.consoleLog(); });
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      depth += 1;
      if (suite.root) return;
      if (suite.parent?.root) suiteStarts.set(suite, Date.now());
      // A suite skipped as a whole says why once, on its heading.
      const own = typeof suite.skipReason === 'string' ? color('pending', ` (skipped: ${suite.skipReason})`) : '';
      Base.consoleLog(`${indent()}${color('suite', '%s')}${own}`, suite.title);
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      depth -= 1;
      if (suiteStarts.has(suite)) {
        const file = suite.file ? path.relative(process.cwd(), suite.file) : suite.title;
        fileTimes.set(file, (fileTimes.get(file) ?? 0) + Date.now() - suiteStarts.get(suite));
        suiteStarts.delete(suite);
      }
      if (depth === 1) Base.consoleLog();
    });
    runner.on(EVENT_TEST_PASS, (test) => {
      totals.passed += 1;
      const slow = test.speed === 'fast' ? '' : color(test.speed, ` (${String(test.duration)}ms)`);
      Base.consoleLog(`${indent()}  ${color('checkmark', Base.symbols.ok)} ${color('pass', '%s')}${slow}`, test.title);
    });
    // Failing hooks (before/after/beforeEach/afterEach) arrive through this same event, and the
    // tests they prevent from running are never reported at all, so each one must count here.
    let failures = 0;
    const failed = [];
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      totals.failed += 1;
      failures += 1;
      const file = test.file ? path.relative(process.cwd(), test.file) : '';
      const message = String(err?.message ?? err).split('\n')[0].slice(0, 300);
      failed.push(`${file}: ${test.fullTitle()}: ${message}`);
      Base.consoleLog(`${indent()}  ${color('fail', `${String(failures)}) %s`)}`, test.title);
    });
    runner.on(EVENT_TEST_PENDING, (test) => {
      totals.skipped += 1;
      const reason = skipReason(test) ?? 'no reason given';
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      const own = typeof test.skipReason === 'string' ? ` (skipped: ${test.skipReason})` : ' (skipped)';
      Base.consoleLog(`${indent()}  ${color('pending', `- %s${own}`)}`, test.title);
    });

    // Synchronous on purpose: with `exit: true` mocha calls process.exit() right after 'end'.
    runner.once(EVENT_RUN_END, () => {
      this.printEpilogue(totals, reasons);
      const slowest = Number(process.env.CONSENT_TEST_TIMINGS);
      if (slowest > 0) printSlowest(fileTimes, slowest);
      const file = process.env.CONSENT_TEST_SUMMARY;
      if (file) fs.appendFileSync(file, `${JSON.stringify({ ...totals, failures: failed })}\n`);
    });
  }

  printEpilogue(totals, reasons) {
    Base.consoleLog();
    Base.consoleLog(`${color('bright pass', ' ')}${color('green', ' %d passing')}${color('light', ' (%s)')}`, totals.passed, duration(this.stats.duration));
    for (const [reason, count] of reasons) Base.consoleLog(color('pending', '  %d skipped: %s'), count, reason);
    if (totals.failed > 0) {
      Base.consoleLog(color('fail', '  %d failing'), totals.failed);
      Base.list(this.failures);
    }
    Base.consoleLog();
  }
}

function duration(ms) {
  if (!Number.isFinite(ms)) return '?';
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s` : ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${ms}ms`;
}

function printSlowest(fileTimes, count) {
  const rows = [...fileTimes].sort((a, b) => b[1] - a[1]).slice(0, count);
  const total = [...fileTimes.values()].reduce((sum, ms) => sum + ms, 0);
  Base.consoleLog(`  slowest test files (of ${duration(total)} in suites):`);
  for (const [file, ms] of rows) Base.consoleLog('  %s  %s', duration(ms).padStart(7), file);
  Base.consoleLog();
}

CiReporter.description = 'spec layout with skip reasons, a JSON totals line for .ci/run, optional slowest files';

module.exports = CiReporter;
