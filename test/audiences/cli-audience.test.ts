import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createConsent } from '../../lib/index';
import { buildCli, describeEachCliDatabase, runCli, SECRET, type CliDatabase } from '../helpers/cli';

const NEWS = { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.' };

describeEachCliDatabase('express-consent audience', (open) => {
  let db: CliDatabase;

  // The first command-line test to run builds the package: on a busy machine that takes minutes.
  before(async function () {
    this.timeout(600_000);
    await buildCli();
  });
  beforeEach(async () => {
    db = await open();
    const consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register([NEWS]);
    await consent.ready();
    await consent.record('alice@example.com', { newsletter: 'granted' });
    await consent.record('bob@example.com', { newsletter: 'denied' });
    await consent.record('carol@example.com', { newsletter: 'granted' });
    await consent.close();
  });
  afterEach(async () => {
    await db.release();
  });

  it('lists the subjects allowed now as CSV, or in a state as NDJSON to a file, and says what it skipped', async () => {
    const csv = await runCli(['--url', db.url, 'audience', 'newsletter']);
    expect(csv.code, csv.stderr).to.equal(0);
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).to.equal('subject,state');
    expect(lines.slice(1).sort()).to.deep.equal(['alice@example.com,granted', 'carol@example.com,granted']);
    expect(csv.stderr).to.equal('express-consent audience: 2 listed\n');

    const dir = mkdtempSync(join(tmpdir(), 'consent-audience-'));
    try {
      const out = join(dir, 'denied.ndjson');
      const nd = await runCli(['--url', db.url, 'audience', 'newsletter', '--state', 'denied, unset', '--format', 'ndjson', '--output', out]);
      expect(nd.code, nd.stderr).to.equal(0);
      expect(readFileSync(out, 'utf8')).to.equal('{"subject":"bob@example.com","state":"denied"}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    await db.knex('consent_subjects').update({ sealed_subject: null });
    const skipped = await runCli(['--url', db.url, 'audience', 'newsletter']);
    expect(skipped.stdout).to.equal('subject,state\r\n');
    expect(skipped.stderr).to.match(/0 listed; 2 skipped: recorded before subject ids were stored/);
  });

  it('exits 2 for an unknown requirement or state', async () => {
    const unknown = await runCli(['--url', db.url, 'audience', 'nope']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/nope/);
    const happy = await runCli(['--url', db.url, 'audience', 'newsletter', '--state', 'granted,happy,']);
    expect(happy.code).to.equal(2);
    expect(happy.stderr).to.include('--state takes one state or several separated by commas').and.include('not "happy", an empty entry').and.not.include('audience()');
    expect((await runCli(['--url', db.url, 'audience', 'newsletter', '--format', 'xml'])).code).to.equal(2);
  });
});
