import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createConsent, type Consent } from '../../lib/index';
import { buildCli, describeEachCliDatabase, runCli, SECRET, type CliDatabase } from '../helpers/cli';
import { copyStore, restoreStore } from '../helpers/store-copy';

describeEachCliDatabase('express-consent verify --checkpoint', (open) => {
  let db: CliDatabase;
  let consent: Consent;
  let dir: string;

  before(async function () {
    this.timeout(180_000);
    await buildCli();
  });

  beforeEach(async () => {
    db = await open();
    dir = mkdtempSync(join(tmpdir(), 'ec-checkpoint-'));
    consent = createConsent({ knex: db.knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register({ id: 'analytics', title: 'Usage analytics', description: 'Which pages you open.' });
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await db.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 while the database extends the saved checkpoint, 1 with a clear message once it was rolled back', async function () {
    this.timeout(60_000);
    await consent.record('u1', { analytics: 'granted' });
    const backup = await copyStore(db.knex);
    await consent.record('u1', { analytics: 'denied' });
    await consent.record('u2', { analytics: 'granted' });
    const file = join(dir, 'checkpoint.json');
    writeFileSync(file, JSON.stringify(await consent.checkpoint()));
    const pem = join(dir, 'key.pem');
    writeFileSync(pem, consent.publicKey);
    const key = ['--public-key', pem];
    const ok = await runCli(['--url', db.url, 'verify', '--checkpoint', file, ...key]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include('ok: 3 events checked, 0 problems');
    // Saved by an editor that puts a byte-order mark first: the same checkpoint and key.
    const marked = join(dir, 'marked.json');
    writeFileSync(marked, `\ufeff${readFileSync(file, 'utf8')}`);
    const markedKey = join(dir, 'marked.pem');
    writeFileSync(markedKey, `\ufeff${consent.publicKey}`);
    expect(await runCli(['--url', db.url, 'verify', '--checkpoint', marked, '--public-key', markedKey])).to.include({ code: 0 });
    // A key file that holds no key is said to, not taken for a signature that fails.
    const secret = join(dir, 'private.pem');
    writeFileSync(secret, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(await runCli(['--url', db.url, 'verify', '--checkpoint', file, '--public-key', secret])).to.deep.include({
      code: 2, stderr: `express-consent: ${secret} holds a private key: give the receipts public key (SPKI PEM, or the JSON of GET /receipts/key)\n`,
    });
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'garbage\n');
    expect(await runCli(['--url', db.url, 'verify', '--checkpoint', file, '--public-key', garbage])).to.deep.include({
      code: 2, stderr: `express-consent: ${garbage} holds no public key: give the SPKI PEM, or the JSON of GET /receipts/key\n`,
    });

    await restoreStore(db.knex, backup);
    expect((await runCli(['--url', db.url, 'verify'])).code).to.equal(0, 'the restored copy is consistent in itself');
    const caught = await runCli(['--url', db.url, 'verify', '--checkpoint', file, ...key]);
    expect(caught.code).to.equal(1);
    expect(caught.stdout).to.include('problem: rollback at checkpoint:3');
    expect(caught.stdout).to.match(/ROLLBACK: the database does not extend the checkpoint of 3 events issued at /);
    const json = await runCli(['--url', db.url, 'verify', '--json', '--checkpoint', file, ...key]);
    expect(json.code).to.equal(1);
    expect(JSON.parse(json.stdout)).to.deep.equal({ ok: false, checked: 1, problems: [{ eventId: 'checkpoint:3', kind: 'rollback' }] });
    // The checkpoint edited to match the copy: its signature fails, so it is not taken (exit 2).
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const early = await consent.checkpoint();
    writeFileSync(file, JSON.stringify({ ...saved, size: early.size, root: early.root }));
    const edited = await runCli(['--url', db.url, 'verify', '--checkpoint', file, ...key]);
    expect(edited.code, edited.stdout).to.equal(2);
    expect(edited.stderr).to.match(/signature does not verify/);
    // The key as GET /receipts/key answers it works as well.
    writeFileSync(pem, JSON.stringify({ alg: 'Ed25519', publicKey: consent.publicKey }));
    writeFileSync(file, JSON.stringify(early));
    expect((await runCli(['--url', db.url, 'verify', '--checkpoint', file, ...key])).code).to.equal(0);
  });

  it('takes the development receipts key kept with the data when no --public-key is given, and asks for one when there is none', async function () {
    this.timeout(60_000);
    await consent.record('u1', { analytics: 'granted' });
    const backup = await copyStore(db.knex);
    await consent.record('u2', { analytics: 'granted' });
    const file = join(dir, 'checkpoint.json');
    const checkpoint = await consent.checkpoint();
    writeFileSync(file, JSON.stringify(checkpoint));
    const ok = await runCli(['--url', db.url, 'verify', '--checkpoint', file]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include('ok: 2 events checked, 0 problems');
    // Signed with another key (an application's own): refused, naming the flag that gives it.
    const other = createConsent({ knex: db.knex, secret: SECRET, receipts: { privateKey: generateKeyPairSync('ed25519').privateKey, controller: 'Another controller' }, logger: { warn() {}, error() {} } });
    other.register({ id: 'analytics', title: 'Usage analytics', description: 'Which pages you open.' });
    const foreign = join(dir, 'foreign.json');
    try {
      await other.ready();
      writeFileSync(foreign, JSON.stringify(await other.checkpoint()));
    } finally {
      await other.close();
    }
    const refused = await runCli(['--url', db.url, 'verify', '--checkpoint', foreign]);
    expect(refused.code, refused.stdout).to.equal(2);
    expect(refused.stderr).to.match(/signature does not verify with the development receipts key .*--public-key FILE/);
    expect(refused.stderr).not.to.include('publicKey');
    await restoreStore(db.knex, backup);
    const caught = await runCli(['--url', db.url, 'verify', '--checkpoint', file]);
    expect(caught.code).to.equal(1);
    expect(caught.stdout).to.include('problem: rollback at checkpoint:2');
    // A store that keeps no development key (the application has its own): the key must be given.
    await db.knex('consent_meta').where({ key: 'receipt_key' }).del();
    const asked = await runCli(['--url', db.url, 'verify', '--checkpoint', file]);
    expect(asked.code).to.equal(2);
    expect(asked.stderr).to.include('keeps no development receipts key: give --public-key FILE');
  });

  it('exits 2 for a checkpoint or key file past 1 MiB, without reading it whole (/dev/zero)', async function () {
    this.timeout(60_000);
    const pem = join(dir, 'key.pem');
    writeFileSync(pem, consent.publicKey);
    const saved = join(dir, 'saved.json');
    writeFileSync(saved, JSON.stringify(await consent.checkpoint()));
    for (const [args, what] of [[['--checkpoint', '/dev/zero', '--public-key', pem], 'a checkpoint'], [['--checkpoint', saved, '--public-key', '/dev/zero'], 'a public key']] as const) {
      const run = await runCli(['--url', db.url, 'verify', ...args]);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr).to.include(`/dev/zero is larger than 1 MiB: not ${what}`);
    }
  });

  it('exits 2 for a checkpoint or key file that is not UTF-8, rather than reading its bytes as U+FFFD', async function () {
    this.timeout(60_000);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const named = createConsent({ knex: db.knex, secret: SECRET, receipts: { privateKey, controller: 'AC\uFFFDME' }, logger: { warn() {}, error() {} } });
    named.register({ id: 'analytics', title: 'Usage analytics', description: 'Which pages you open.' });
    const genuine = join(dir, 'genuine.json');
    try {
      await named.ready();
      writeFileSync(genuine, JSON.stringify(await named.checkpoint()));
    } finally {
      await named.close();
    }
    const pem = join(dir, 'named.pem');
    writeFileSync(pem, publicKey.export({ type: 'spki', format: 'pem' }));
    expect(await runCli(['--url', db.url, 'verify', '--checkpoint', genuine, '--public-key', pem])).to.include({ code: 0 });
    // Another file: one byte that is no UTF-8 where the genuine one spells U+FFFD.
    const bytes = readFileSync(genuine);
    const at = bytes.indexOf(Buffer.from('\uFFFD', 'utf8'));
    expect(at).to.be.greaterThan(0);
    const other = join(dir, 'other.json');
    writeFileSync(other, Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at + 3)]));
    const refused = await runCli(['--url', db.url, 'verify', '--checkpoint', other, '--public-key', pem]);
    expect(refused.code, refused.stdout).to.equal(2);
    expect(refused.stderr).to.include(`${other} is not UTF-8 text: not a checkpoint`);
    const badKey = join(dir, 'bad.pem');
    writeFileSync(badKey, Buffer.concat([readFileSync(pem), Buffer.from([0xff, 0x0a])]));
    const keyRefused = await runCli(['--url', db.url, 'verify', '--checkpoint', genuine, '--public-key', badKey]);
    expect(keyRefused.code).to.equal(2);
    expect(keyRefused.stderr).to.include(`${badKey} is not UTF-8 text: not a public key`);
  });

  it('exits 2 for a file that is missing, not JSON or not a checkpoint, and with --subject', async function () {
    this.timeout(60_000);
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"size": 3}');
    const text = join(dir, 'text.json');
    writeFileSync(text, 'not json');
    const pem = join(dir, 'key.pem');
    writeFileSync(pem, consent.publicKey);
    const key = ['--public-key', pem];
    for (const args of [['--checkpoint', join(dir, 'missing.json'), ...key], ['--checkpoint', text, ...key], ['--checkpoint', junk, ...key], ['--checkpoint', junk, '--subject', 'u1'], ['--checkpoint', junk], ['--public-key', pem], ['--checkpoint', junk, '--public-key', text]]) {
      const run = await runCli(['--url', db.url, 'verify', ...args]);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr).to.match(/checkpoint/);
    }
    // Why a file cannot be read, where the operator can do something about it.
    const missing = join(dir, 'missing.json');
    expect(await runCli(['--url', db.url, 'verify', '--checkpoint', missing, ...key])).to.deep.include({ code: 2, stderr: `express-consent: cannot read ${missing}: no such file\n` });
    expect(await runCli(['--url', db.url, 'verify', '--checkpoint', dir, ...key])).to.deep.include({ code: 2, stderr: `express-consent: cannot read ${dir}: it is a directory\n` });
    // A member given twice: JSON.parse checks the last (the signed one), a reader sees the first.
    await consent.record('u1', { analytics: 'granted' });
    const signed = JSON.stringify(await consent.checkpoint());
    const twice = join(dir, 'twice.json');
    writeFileSync(twice, `{"size":99999,${signed.slice(1)}`);
    const run = await runCli(['--url', db.url, 'verify', '--checkpoint', twice, ...key]);
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.include('/size twice');
  });
});
