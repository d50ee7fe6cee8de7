import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildCli, runCli } from '../helpers/cli';

describe('express-consent migrate on an SQLite file that is not there yet', () => {
  let dir: string;

  before(async function () {
    this.timeout(180_000);
    await buildCli();
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'express-consent-new-file-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates it readable and writable by its owner only', async () => {
    const file = join(dir, 'consent.sqlite3');
    const run = await runCli(['--url', `sqlite:${file}`, 'migrate']);
    expect(run.code, run.stderr).to.equal(0);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
  });

  it('leaves the permissions of a file that is there alone', async () => {
    const file = join(dir, 'consent.sqlite3');
    writeFileSync(file, '');
    chmodSync(file, 0o640);
    const run = await runCli(['--url', `sqlite:${file}`, 'migrate']);
    expect(run.code, run.stderr).to.equal(0);
    expect(statSync(file).mode & 0o777).to.equal(0o640);
  });
});
