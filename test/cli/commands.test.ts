import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createConsent, type Consent } from '../../lib/index';
import { MIGRATION_NAMES } from '../../lib/knex/migrations/index';
import { buildCli, describeEachCliDatabase, runCli, SECRET, type CliDatabase } from '../helpers/cli';
import { allStoredRecords, changeRecord } from '../helpers/records';

const TERMS = { id: 'terms', title: 'Terms of service', description: 'The rules of the service.', lawfulBasis: 'contract' as const };
const NEWS = { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.' };

async function seeded(db: CliDatabase): Promise<{ pseudonym: (id: string) => string }> {
  const consent: Consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
  consent.register([TERMS, NEWS]);
  await consent.ready();
  await consent.record('alice', { terms: 'granted', newsletter: 'granted' });
  await consent.record('bob', { terms: 'granted', newsletter: 'denied' });
  await consent.record('alice', { newsletter: 'denied' });
  const pseudonym = (id: string) => consent.engine.pseudonym(id);
  await consent.close();
  return { pseudonym };
}

describeEachCliDatabase('the express-consent command line', (open) => {
  let db: CliDatabase;

  before(async function () {
    this.timeout(180_000);
    await buildCli();
  });

  beforeEach(async () => {
    db = await open();
  });

  afterEach(async () => {
    await db.release();
  });

  it('migrates an empty database, and again as a no-op', async () => {
    const first = await runCli(['--url', db.url, 'migrate']);
    expect(first).to.include({ code: 0, stderr: '' });
    expect(first.stdout).to.equal(`ran ${String(MIGRATION_NAMES.length)} migrations: ${MIGRATION_NAMES.join(', ')}\nmigrations are now current\nCONSENT_SECRET is the secret of this database\n`);
    expect(await db.knex.schema.hasTable('consent_events')).to.equal(true);
    const again = await runCli(['--url', db.url, 'migrate']);
    expect(again).to.include({ code: 0, stdout: 'migrations were already current\nCONSENT_SECRET is the secret of this database\n' });
    expect(await runCli(['--url', db.url, 'migrate'], { CONSENT_SECRET: undefined })).to.include({ code: 0, stdout: 'migrations were already current\n' });
  });

  /** Runs each command with a mistyped secret: each exits 2 saying `why`. */
  async function refusedWithTypo(commands: string[][], why: string): Promise<void> {
    for (const command of commands) {
      const run = await runCli(['--url', db.url, ...command], { CONSENT_SECRET: 'a-mistyped-secret-a-mistyped-secret-0123' });
      expect(run.code, command[0]).to.equal(2);
      expect(run.stderr, command[0]).to.include(why);
    }
  }

  /** Starts and stops the application with the real secret (its `ready()` rejects on another). */
  async function startApplication(): Promise<void> {
    const consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register([TERMS]);
    await consent.ready();
    await consent.close();
  }

  it('binds a new database to the secret migrate is given, so that a mistyped one is refused everywhere after', async () => {
    expect((await runCli(['--url', db.url, 'migrate'])).code).to.equal(0);
    await refusedWithTypo([['verify'], ['export'], ['migrate']], 'the secret is not the one this database was written with');
    await startApplication();
  });

  it('leaves a database no secret is bound to for migrate, the application or an import: a read command does not claim it', async () => {
    expect((await runCli(['--url', db.url, 'migrate'], { CONSENT_SECRET: undefined })).code).to.equal(0);
    await refusedWithTypo([['verify'], ['export'], ['audience', 'terms']], 'no secret is bound to this database yet');
    // Still the application's to bind.
    await startApplication();
    expect(await runCli(['--url', db.url, 'verify'])).to.include({ code: 0 });
  });

  it('honours --table-prefix', async () => {
    expect((await runCli(['--url', db.url, '--table-prefix', 'ops_', 'migrate'])).code).to.equal(0);
    expect(await db.knex.schema.hasTable('ops_events')).to.equal(true);
    expect(await db.knex.schema.hasTable('consent_events')).to.equal(false);
  });

  it('reads, counts, exports and erases in a database with its own table prefix', async () => {
    const consent = createConsent({ knex: db.knex, tablePrefix: 'ops_', secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register([TERMS, NEWS]);
    // A durable handler that fails: its entries wait in the outbox, and the counts list them.
    consent.on('change', () => Promise.reject(new Error('down')), { name: 'crm-sync' });
    await consent.ready();
    await consent.record('alice', { terms: 'granted', newsletter: 'granted' });
    await consent.record('bob', { newsletter: 'denied' });
    await consent.close();
    const prefixed = (...args: string[]) => runCli(['--url', db.url, '--table-prefix', 'ops_', ...args]);
    expect((await prefixed('stats')).stdout).to.match(/\noutbox handler\tentries\tearliest due\ncrm-sync\t3\t\d{4}-\d\d-\d\dT/);
    expect(await prefixed('verify')).to.include({ code: 0, stdout: 'ok: 3 events checked, 0 problems\n' });
    const stats = JSON.parse((await prefixed('stats', '--json')).stdout);
    expect(stats.subjects).to.equal(2);
    expect(stats.requirements.newsletter.states).to.include({ granted: 1, denied: 1 });
    expect((await prefixed('export', '--format', 'ndjson')).stdout.trimEnd().split('\n')).to.have.length(3);
    expect(JSON.parse((await prefixed('erase', 'bob')).stdout)).to.deep.equal({ events: 1 });
    expect(JSON.parse((await prefixed('stats', '--json')).stdout).subjects).to.equal(1);
    expect(await db.knex.schema.hasTable('consent_events')).to.equal(false);
  });

  it('verifies an untouched database with exit 0, and a tampered one with exit 1 naming the event', async () => {
    await seeded(db);
    const clean = await runCli(['--url', db.url, 'verify']);
    expect(clean).to.include({ code: 0, stderr: '' });
    expect(clean.stdout).to.match(/^ok: 5 events checked, 0 problems$/m);
    const [event] = await db.knex('consent_events').orderBy('id').limit(1);
    // The event's id as the export shows it (the export is oldest first).
    const shown = (JSON.parse((await runCli(['--url', db.url, 'export', '--format', 'ndjson'])).stdout.split('\n')[0] as string) as { id: string }).id;
    await db.knex('consent_events').where({ id: event.id }).update({ action: 'deny', note: 'edited later' });
    const tampered = await runCli(['--url', db.url, 'verify']);
    expect(tampered.code).to.equal(1);
    expect(tampered.stdout).to.include(`problem: modified at event ${shown}`);
    const json = await runCli(['--url', db.url, 'verify', '--json']);
    expect(json.code).to.equal(1);
    expect(JSON.parse(json.stdout)).to.deep.include({ ok: false, problems: [{ eventId: shown, kind: 'modified' }] });
  });

  it('verifies one subject with --subject', async () => {
    await seeded(db);
    const run = await runCli(['--url', db.url, 'verify', '--subject', 'bob', '--json']);
    expect(run.code).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({ ok: true, checked: 2, problems: [] });
  });

  it('exports every event as CSV to stdout, subjects as pseudonyms', async () => {
    const { pseudonym } = await seeded(db);
    const run = await runCli(['--url', db.url, 'export', '--format', 'csv']);
    expect(run).to.include({ code: 0, stderr: '' });
    const lines = run.stdout.split('\r\n');
    expect(lines[0]).to.equal('id,at,requirement,version,action,state,source,subject,actor,context,locale');
    expect(lines.at(-1)).to.equal('');
    const rows = lines.slice(1, -1).map((line) => line.split(','));
    const [a, b] = [pseudonym('alice'), pseudonym('bob')];
    expect(rows.map(([, , requirement, version, action, state, source, subject]) => [requirement, version, action, state, source, subject])).to.deep.equal([
      ['terms', '1', 'grant', 'granted', 'app', a],
      ['newsletter', '1', 'grant', 'granted', 'app', a],
      ['terms', '1', 'grant', 'granted', 'app', b],
      ['newsletter', '1', 'deny', 'denied', 'app', b],
      ['newsletter', '1', 'withdraw', 'denied', 'app', a],
    ]);
    const stored = await db.knex('consent_events').orderBy('id').select('at');
    expect(rows.map((row) => row[1])).to.deep.equal(stored.map((e) => new Date(Number(e.at)).toISOString()));
    expect(run.stdout).not.to.include('alice');
    // The ids are the ones the library shows, not the stored ones.
    const consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
    try {
      consent.register([TERMS, NEWS]);
      const shown = [...(await consent.history('alice')).events, ...(await consent.history('bob')).events];
      expect(rows.map((row) => row[0]).sort()).to.deep.equal(shown.map((e) => e.id).sort());
    } finally {
      await consent.close();
    }
  });

  it('exports NDJSON to a file with --output', async () => {
    const { pseudonym } = await seeded(db);
    const dir = mkdtempSync(join(tmpdir(), 'express-consent-export-'));
    try {
      const file = join(dir, 'events.ndjson');
      const run = await runCli(['--url', db.url, 'export', '--format', 'ndjson', '--output', file]);
      expect(run).to.include({ code: 0, stdout: '', stderr: '' });
      const events = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
      expect(events).to.have.length(5);
      expect(Object.keys(events[0])).to.deep.equal(['id', 'at', 'requirement', 'version', 'action', 'state', 'source', 'subject', 'actor', 'context', 'locale']);
      expect(events[4]).to.deep.include({ requirement: 'newsletter', version: 1, action: 'withdraw', state: 'denied', source: 'app', subject: pseudonym('alice') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts subjects per requirement, version and state with the stored requirements only', async () => {
    await seeded(db);
    // A new text of the newsletter: both old answers stay, alice's denial and bob's.
    const next = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
    next.register([TERMS, { ...NEWS, version: 2, description: 'A weekly e-mail.' }]);
    await next.ready();
    await next.record('carol', { newsletter: 'granted' });
    await next.close();
    const run = await runCli(['--url', db.url, 'stats', '--json']);
    expect(run).to.include({ code: 0, stderr: '' });
    const stats = JSON.parse(run.stdout);
    // The document `GET /admin/stats` answers, derived by the same code.
    expect(Object.keys(stats)).to.deep.equal(['subjects', 'requirements', 'events', 'outbox']);
    expect(stats.subjects).to.equal(3);
    expect(stats.requirements.newsletter.version).to.equal(2);
    expect(stats.requirements.newsletter.states).to.deep.equal({ granted: 1, denied: 2, pending: 0, unset: 0, expired: 0, outdated: 0 });
    expect(Object.keys(stats.requirements.newsletter.versions)).to.have.members(['1', '2']);
    expect(stats.requirements.terms.states).to.deep.equal({ granted: 2, denied: 0, pending: 0, unset: 1, expired: 0, outdated: 0 });
    expect(stats.events).to.deep.equal({ grant: 4, deny: 1, withdraw: 1, request: 0, confirm: 0, expire: 0, erase: 0 });
    const text = await runCli(['--url', db.url, 'stats']);
    expect(text.stdout).to.match(/^newsletter\t2\t1\t0\t0\t0\t0\t0$/m);
  });

  /** Decisions on `offers` (a grant lapses after a day) recorded `days` ago by an instance of its own. */
  async function decidedDaysAgo(days: number, decisions: Record<string, 'granted' | 'denied'>): Promise<void> {
    const past = createConsent({ knex: db.knex, secret: SECRET, now: () => new Date(Date.now() - days * 86_400_000), logger: { warn() {}, error() {} } });
    past.register({ id: 'offers', title: 'Offers', description: 'Partner offers.', expiresAfterDays: 1 });
    await past.ready();
    for (const [subject, decision] of Object.entries(decisions)) await past.record(subject, { offers: decision });
    await past.close();
  }

  it('sweeps lapsed grants once: an expire event by the sweep, and the chains still verify', async () => {
    await decidedDaysAgo(3, { erin: 'granted', fred: 'denied' });
    const first = await runCli(['--url', db.url, 'sweep']);
    expect(first).to.include({ code: 0, stderr: '' });
    expect(JSON.parse(first.stdout)).to.deep.equal({ recorded: 1, refused: 0 });
    expect(JSON.parse((await runCli(['--url', db.url, 'sweep'])).stdout)).to.deep.equal({ recorded: 0, refused: 0 });
    const events = (await runCli(['--url', db.url, 'export', '--format', 'ndjson'])).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1)).to.deep.include({ requirement: 'offers', action: 'expire', state: 'expired', source: 'sweep' });
    expect((await runCli(['--url', db.url, 'verify'])).code).to.equal(0);
    const stats = JSON.parse((await runCli(['--url', db.url, 'stats', '--json'])).stdout);
    expect(stats.requirements.offers.states).to.deep.include({ expired: 1, denied: 1 });
  });

  it('sweep exits 1 when it refuses a subject whose stored rows fail their seal, and records the others', async () => {
    await decidedDaysAgo(3, { erin: 'granted', fred: 'granted' });
    // One of the lapsed grants, edited behind the library's back: its head's seal no longer matches.
    const offers = (await allStoredRecords(db.knex)).filter((r) => r.requirement === 'offers');
    expect(offers).to.have.length(2);
    await changeRecord(db.knex, Buffer.from(offers[0]!.chain, 'hex'), 'offers', { version: 7 });
    const run = await runCli(['--url', db.url, 'sweep']);
    expect(run.code).to.equal(1);
    expect(JSON.parse(run.stdout)).to.deep.equal({ recorded: 1, refused: 1 });
    expect(run.stderr).to.contain('fail their seal');
  });

  it('says once why it refuses to erase a subject whose stored rows fail their seal', async () => {
    await seeded(db);
    const newsletters = (await allStoredRecords(db.knex)).filter((r) => r.requirement === 'newsletter');
    expect(newsletters).to.have.length(2);
    for (const r of newsletters) await changeRecord(db.knex, Buffer.from(r.chain, 'hex'), 'newsletter', { version: 7 });
    const run = await runCli(['--url', db.url, 'erase', 'alice']);
    expect(run.code).to.not.equal(0);
    expect(run.stderr.split('fail their seal')).to.have.length(2, run.stderr);
  });

  it('imports NDJSON decisions with their times, chained so that verify still passes', async () => {
    await seeded(db);
    const dir = mkdtempSync(join(tmpdir(), 'express-consent-import-'));
    try {
      const file = join(dir, 'decisions.ndjson');
      const lines = [
        { subjectId: 'gina', requirement: 'newsletter', version: 1, decision: 'granted', at: '2025-01-02T03:04:05.000Z', source: 'import' },
        { subjectId: 'gina', requirement: 'terms', decision: 'granted', at: '2025-01-02T03:04:06.000Z' },
        { subjectId: 'hugo', requirement: 'newsletter', decision: 'denied', at: '2025-02-01T00:00:00.000Z' },
      ];
      // With the byte-order mark some editors write first.
      writeFileSync(file, `\ufeff${lines.map((l) => JSON.stringify(l)).join('\n')}\n\n`);
      const run = await runCli(['--url', db.url, 'import', file, '--batch-size', '2']);
      expect(run).to.include({ code: 0, stderr: '' });
      expect(JSON.parse(run.stdout)).to.deep.equal({ imported: 3 });
      expect((await runCli(['--url', db.url, 'verify'])).code).to.equal(0);
      const events = (await runCli(['--url', db.url, 'export', '--format', 'ndjson'])).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(events.filter((e) => e.source === 'import').map((e) => [e.at, e.requirement, e.action])).to.have.deep.members([
        ['2025-01-02T03:04:05.000Z', 'newsletter', 'grant'], ['2025-01-02T03:04:06.000Z', 'terms', 'grant'], ['2025-02-01T00:00:00.000Z', 'newsletter', 'deny'],
      ]);
      writeFileSync(file, '{"subjectId":"ivy","requirement":"terms","decision":"granted","at":"2025-01-01T00:00:00.000Z"}\nnot json\n');
      const bad = await runCli(['--url', db.url, 'import', file]);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.include(':2:');
      expect((await runCli(['--url', db.url, 'import', join(dir, 'absent.ndjson')])).code).to.equal(2);
      expect((await runCli(['--url', db.url, 'import', dir])).code, 'a directory').to.equal(2);
      // A decision refused after earlier batches were committed: named by its line, with what went in before it.
      const future = new Date(Date.now() + 86_400_000).toISOString();
      const rows = ['jo', 'kim', 'lee'].map((subjectId) => JSON.stringify({ subjectId, requirement: 'terms', decision: 'granted', at: '2025-01-01T00:00:00.000Z' }));
      rows.splice(1, 0, '');
      rows.push(JSON.stringify({ subjectId: 'max', requirement: 'terms', decision: 'granted', at: future }));
      writeFileSync(file, `${rows.join('\n')}\n`);
      const late = await runCli(['--url', db.url, 'import', file, '--batch-size', '2']);
      expect(late.code).to.equal(2);
      expect(late.stderr).to.include(`${file}:5: at: must not be in the future`).and.to.include('2 decisions before it imported');
      // An unknown requirement id, named by its line too.
      writeFileSync(file, `${JSON.stringify({ subjectId: 'ned', requirement: 'terms', decision: 'granted', at: '2025-01-01T00:00:00.000Z' })}\n${JSON.stringify({ subjectId: 'ned', requirement: 'termz', decision: 'granted', at: '2025-01-01T00:00:00.000Z' })}\n`);
      const typo = await runCli(['--url', db.url, 'import', file, '--batch-size', '1']);
      expect(typo.code).to.equal(2);
      expect(typo.stderr).to.include(`${file}:2: requirement: no requirement is registered as "termz"`).and.to.include('1 decision before it imported');
      // Lines end with LF, CRLF or a lone CR, as an editor left them; a line past 1 MiB is refused
      // by its number before it is held whole (a file of one huge line would fill the memory).
      const decision = (subjectId: string) => JSON.stringify({ subjectId, requirement: 'terms', decision: 'granted', at: '2025-01-01T00:00:00.000Z' });
      writeFileSync(file, `${decision('olga')}\r\n${decision('pia')}\r${decision('quinn')}\n\r\n${decision('rita')}`);
      const endings = await runCli(['--url', db.url, 'import', file]);
      expect(endings, endings.stderr).to.include({ code: 0 });
      expect(JSON.parse(endings.stdout)).to.deep.equal({ imported: 4 });
      writeFileSync(file, `${decision('sam')}\n{"subjectId":"${'x'.repeat(3 << 20)}"}\n`);
      const huge = await runCli(['--url', db.url, 'import', file]);
      expect(huge.code).to.equal(2);
      expect(huge.stderr).to.include(`${file}:2: a line longer than 1 MiB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('erases a subject: its events lose their pseudonym and the chains still verify', async () => {
    const { pseudonym } = await seeded(db);
    const run = await runCli(['--url', db.url, 'erase', 'alice']);
    expect(run).to.include({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).to.deep.equal({ events: 3 });
    expect((await runCli(['--url', db.url, 'verify'])).code).to.equal(0);
    const ndjson = (await runCli(['--url', db.url, 'export', '--format', 'ndjson'])).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(ndjson.filter((e) => e.subject === pseudonym('alice'))).to.deep.equal([]);
    expect(ndjson.at(-1)).to.deep.include({ action: 'erase', source: 'admin', subject: null });
  });
});
