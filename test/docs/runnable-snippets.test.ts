import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { packedApp, repo, type PackedApp } from '../packaging/packed';
import { createPgDatabase, pgAvailable } from '../helpers/databases';
import { skipBecause } from '../helpers/skip';
import { docFiles, readDoc } from './doc-files';
import { extractSnippets, runSnippet, snippetEnv } from './snippets';

const snippets = docFiles().flatMap((file) => extractSnippets(readDoc(file), file));

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
    it(`${snippet.where} (${[snippet.language, ...snippet.flags].join(' ')}) runs`, async function () {
      let database: Awaited<ReturnType<typeof createPgDatabase>> | null = null;
      if (snippet.flags.includes('postgres')) {
        if (!pgAvailable()) skipBecause(this, 'no PostgreSQL: set CONSENT_TEST_PG_URL');
        database = await createPgDatabase();
      }
      try {
        const run = await runSnippet(snippet, join(app.scratch, `doc-${String(index)}`), join(app.scratch, 'node_modules/@types'), snippetEnv(snippet, database?.url));
        expect(run.ok, run.report).to.equal(true);
      } finally {
        await database?.drop();
      }
    });
  });
});
