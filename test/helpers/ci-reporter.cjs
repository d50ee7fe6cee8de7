'use strict';
// Mocha's spec reporter, plus one JSON line of totals ({"passed":N,"failed":N,"skipped":N})
// appended to the file named by $CONSENT_TEST_SUMMARY when the run ends. .ci/run adds those
// lines up (one per suite run) into its closing "N passed, N failed" line, so the totals come
// from the runner's own events rather than from scraping the console output.
const fs = require('node:fs');
const Mocha = require('mocha');

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class CiReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const totals = { passed: 0, failed: 0, skipped: 0 };
    runner.on(EVENT_TEST_PASS, () => {
      totals.passed += 1;
    });
    // Failing hooks (before/after/beforeEach/afterEach) arrive through this same event, and the
    // tests they prevent from running are never reported at all, so each one must count here.
    runner.on(EVENT_TEST_FAIL, () => {
      totals.failed += 1;
    });
    runner.on(EVENT_TEST_PENDING, () => {
      totals.skipped += 1;
    });
    // Synchronous on purpose: with `exit: true` mocha calls process.exit() right after 'end'.
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.CONSENT_TEST_SUMMARY;
      if (file) fs.appendFileSync(file, `${JSON.stringify(totals)}\n`);
    });
  }
}

CiReporter.description = 'spec, plus a JSON totals line appended to $CONSENT_TEST_SUMMARY';

module.exports = CiReporter;
