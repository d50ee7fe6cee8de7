import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { packedApp, repo, type PackedApp } from '../packaging/packed';
import { createPgDatabase, pgAvailable } from '../helpers/databases';
import { skipBecause } from '../helpers/skip';
import { docFiles, readDoc } from './doc-files';
import { extractSnippets, runSnippet, snippetEnv, startServerSnippet, type SnippetRun } from './snippets';

// The README's servers are run by readme-app.test.ts, which also sends them requests.
const snippets = docFiles()
  .flatMap((file) => extractSnippets(readDoc(file), file))
  .filter((snippet) => !(snippet.where.startsWith('README.md:') && snippet.flags.includes('server')));

describe('the runnable code blocks of README.md and docs/', function () {
  this.timeout(180_000);
  let app: PackedApp;

  before(async () => {
    app = await packedApp();
    // The production snippets use PostgreSQL's driver, a peer the application installs.
    if (!existsSync(join(app.scratch, 'node_modules/pg'))) symlinkSync(join(repo, 'node_modules/pg'), join(app.scratch, 'node_modules/pg'), 'dir');
  });

  it('include at least one block marked runnable', () => {
    expect(snippets.length).to.be.at.least(1);
  });

  snippets.forEach((snippet, index) => {
    // Left out, as describePg leaves its suites out, of CI's second pass (see databases.ts).
    if (snippet.flags.includes('postgres') && process.env.CONSENT_TEST_SQLITE_ONLY === '1') return;
    it(`${snippet.where} (${[snippet.language, ...snippet.flags].join(' ')}) runs`, async function () {
      let database: Awaited<ReturnType<typeof createPgDatabase>> | null = null;
      if (snippet.flags.includes('postgres')) {
        if (!pgAvailable()) {
          if (process.env.CI === 'true') throw new Error('CONSENT_TEST_PG_URL must be set under CI');
          skipBecause(this, 'no PostgreSQL: set CONSENT_TEST_PG_URL');
        }
        database = await createPgDatabase();
      }
      try {
        const dir = join(app.scratch, `doc-${String(index)}`);
        const typeRoots = join(app.scratch, 'node_modules/@types');
        const env = snippetEnv(snippet, database?.url);
        let run: SnippetRun;
        if (snippet.flags.includes('server')) run = await (await startServerSnippet(snippet, dir, typeRoots, env)).stop();
        else run = await runSnippet(snippet, dir, typeRoots, env);
        expect(run.ok, run.report).to.equal(true);
      } finally {
        await database?.drop();
      }
    });
  });
});
