'use strict';
// The spec reporter, plus one JSON line of totals appended to $CONSENT_TEST_SUMMARY, which
// .ci/run adds up into its closing "N passed, N failed" line.
const fs = require('node:fs');
const Mocha = require('mocha');

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class CiReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const totals = { passed: 0, failed: 0, skipped: 0 };
    runner.on(EVENT_TEST_PASS, () => (totals.passed += 1));
    // A failing hook is reported through the same event, so it counts as a failure too.
    runner.on(EVENT_TEST_FAIL, () => (totals.failed += 1));
    runner.on(EVENT_TEST_PENDING, () => (totals.skipped += 1));
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.CONSENT_TEST_SUMMARY;
      if (file) fs.appendFileSync(file, `${JSON.stringify(totals)}\n`);
    });
  }
}

module.exports = CiReporter;
