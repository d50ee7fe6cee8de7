'use strict';
// `npm test` (or `npx mocha`) runs every test file; `npx mocha test/x.test.ts` or
// `npm test -- test/x.test.ts` runs only the files named. Mocha adds a configured `spec` to the
// files given on the command line, so the whole-suite glob is configured only when none are.
const { loadOptions } = require('mocha/lib/cli/options');

const named = loadOptions([...process.argv.slice(2), '--no-config', '--no-package'])._.length > 0;

module.exports = {
  'node-option': ['import=tsx'],
  ...(named ? {} : { spec: ['test/**/*.test.ts'] }),
  timeout: 30000,
  reporter: './test/helpers/ci-reporter.cjs',
  exit: true,
};
