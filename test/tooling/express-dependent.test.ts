import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../docs/doc-files';
// @ts-expect-error: a plain .mjs script of .ci/run, without type declarations
import { expressDependentTests } from '../helpers/express-dependent.mjs';

describe('the choice of test files for the Express 4 run of CI', () => {
  const chosen = (expressDependentTests as () => string[])();

  it('takes the files that serve HTTP, directly, through a helper or through a script they start', () => {
    expect(chosen).to.include.members([
      'test/express/guard.test.ts', // imports supertest
      'test/core/gpc.test.ts', // imports express
      'test/api/event-fields.test.ts', // through test/helpers/app.ts
      'test/reliability/crash.test.ts', // starts test/reliability/fixtures/crash-app.ts
      'test/examples/npm-start.test.ts', // runs the example app
      'test/docs/runnable-snippets.test.ts', // runs the documentation's snippets
    ]);
  });

  it('leaves out the files that never reach Express', () => {
    expect(chosen).not.to.include.members([
      'test/state/derive.test.ts',
      'test/audit/verify-chain.test.ts',
      'test/cli/commands.test.ts',
      'test/conformance/knex-pg.test.ts',
      'test/bench/smoke.test.ts',
      'test/tooling/express-dependent.test.ts',
    ]);
  });

  it('names existing test files only', () => {
    expect(chosen.length).to.be.greaterThan(0);
    for (const file of chosen) {
      expect(file).to.match(/^test\/.*\.test\.ts$/);
      expect(existsSync(join(repoRoot, file)), file).to.equal(true);
    }
  });
});
