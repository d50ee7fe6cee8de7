import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { canonicalJson } from '../../lib/audit/canonical-json';
import { signJson } from '../../lib/audit/signed';
import { createConsent, MemoryTracker, verifyReceipt, type Consent, type ConsentReceipt } from '../../lib/index';
import { textHash } from '../../lib/registry/text';
import { normalizeRequirement } from '../../lib/registry/validate';

const SECRET = 'receipt-test-secret-0123456789abcdef0123';
const NOW = Date.UTC(2025, 2, 1, 9, 30);
const quiet = () => {
  const warnings: string[] = [];
  return { warnings, warn: (m: string) => warnings.push(m), error() {} };
};
const defs = [
  { id: 'analytics', title: 'Analytics', description: 'Pages you open.', expiresAfterDays: 30 },
  { id: 'terms', title: 'Terms', description: 'The contract.', lawfulBasis: 'contract' as const },
  { id: 'news', title: 'News', description: 'A letter.' },
];

async function open(options: Parameters<typeof createConsent>[0] = {}): Promise<Consent> {
  const consent = createConsent({ tracker: new MemoryTracker(), secret: SECRET, now: () => new Date(NOW), logger: quiet(), ...options });
  consent.register(defs);
  await consent.ready();
  return consent;
}

/** Every way of changing one byte of the receipt's JSON that still parses. */
function flips(receipt: ConsentReceipt): unknown[] {
  const text = JSON.stringify(receipt);
  const out: unknown[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const swapped = text[i] === 'a' ? 'b' : text[i] === '1' ? '2' : text[i] === 'e' ? 'f' : null;
    if (swapped === null) continue;
    try {
      out.push(JSON.parse(text.slice(0, i) + swapped + text.slice(i + 1)));
    } catch {
      // not JSON any more: nothing to verify
    }
  }
  return out;
}

describe('consent receipts', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('lays out the decisions, signs them, and verifies offline with the public key', async () => {
    const consent = await open({ receipts: { privateKey, controller: { name: 'ACME', contact: 'privacy@acme.test' } } });
    await consent.record('ann', { analytics: 'granted', terms: 'granted' });
    const receipt = await consent.receipt('ann');
    expect(Object.keys(receipt)).to.have.members(['version', 'receiptId', 'issuedAt', 'controller', 'subject', 'decisions', 'log', 'proof']);
    expect(receipt).to.include({ version: 1, issuedAt: new Date(NOW).toISOString(), subject: consent.engine.pseudonym('ann') });
    expect(receipt.controller).to.deep.equal({ name: 'ACME', contact: 'privacy@acme.test' });
    expect(receipt.decisions).to.deep.equal([
      {
        requirement: 'analytics', version: 1, state: 'granted', lawfulBasis: 'consent',
        decidedAt: new Date(NOW).toISOString(), expiresAt: new Date(NOW + 30 * 86_400_000).toISOString(),
        textHash: textHash(normalizeRequirement(defs[0])), locale: 'en',
      },
      {
        requirement: 'terms', version: 1, state: 'granted', lawfulBasis: 'contract',
        decidedAt: new Date(NOW).toISOString(), expiresAt: null, textHash: textHash(normalizeRequirement(defs[1])), locale: 'en',
      },
    ]);
    expect(receipt.proof.alg).to.equal('EdDSA');
    expect(consent.publicKey).to.equal(pem);
    expect(verifyReceipt(receipt, consent.publicKey)).to.equal(true);
    expect(verifyReceipt(JSON.parse(canonicalJson(receipt)), publicKey)).to.equal(true, 'key order does not matter');
  });


  it('cites no text, basis or locale for a version the store never held (imported from another system)', async () => {
    const consent = createConsent({ tracker: new MemoryTracker(), secret: SECRET, now: () => new Date(NOW), logger: quiet(), receipts: { privateKey, controller: 'ACME' } });
    // Registered at version 3 with another basis: versions 1 and 2 were never stored here.
    consent.register([
      { id: 'terms', title: 'Terms', description: 'The contract.', version: 3, lawfulBasis: 'legal_obligation' },
      { id: 'news', title: 'News', description: 'A letter.' },
    ]);
    await consent.ready();
    await consent.import([
      { subjectId: 'ann', requirement: 'terms', version: 1, decision: 'granted', at: NOW - 1000 },
      { subjectId: 'ann', requirement: 'news', version: 1, decision: 'granted', at: NOW - 1000 },
    ]);
    const receipt = await consent.receipt('ann');
    expect(receipt.decisions).to.deep.equal([
      { requirement: 'terms', version: 1, state: 'outdated', lawfulBasis: null, decidedAt: new Date(NOW - 1000).toISOString(), expiresAt: null, textHash: null, locale: null },
      // The version it decided is stored: cited as before.
      { requirement: 'news', version: 1, state: 'granted', lawfulBasis: 'consent', decidedAt: new Date(NOW - 1000).toISOString(), expiresAt: null, textHash: textHash(normalizeRequirement({ id: 'news', title: 'News', description: 'A letter.' })), locale: 'en' },
    ]);
    expect(verifyReceipt(receipt, consent.publicKey)).to.equal(true);
  });
  it('fails any changed byte, a missing or extra field, another key, and junk, without throwing', async () => {
    const consent = await open({ receipts: { privateKey, controller: 'ACME' } });
    await consent.record('ann', { analytics: 'granted', news: 'denied' });
    const receipt = await consent.receipt('ann');
    const changed = flips(receipt);
    expect(changed.length).to.be.greaterThan(50);
    for (const variant of changed) expect(verifyReceipt(variant, pem), JSON.stringify(variant)).to.equal(false);
    const { controller: _c, ...missing } = receipt;
    expect(verifyReceipt(missing, pem)).to.equal(false);
    expect(verifyReceipt({ ...receipt, extra: 1 }, pem)).to.equal(false);
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyReceipt(receipt, other)).to.equal(false);
    const signedByOther = await (await open({ receipts: { privateKey: generateKeyPairSync('ed25519').privateKey, controller: 'ACME' } })).receipt('ann');
    expect(verifyReceipt(signedByOther, pem)).to.equal(false);
    for (const junk of [null, 1, 'x', [], {}, { proof: null }, { ...receipt, proof: { ...receipt.proof, signature: '***' } }]) {
      expect(verifyReceipt(junk, pem)).to.equal(false);
    }
    expect(verifyReceipt(receipt, 'not a key')).to.equal(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(verifyReceipt(receipt, rsa)).to.equal(false);
  });

  it('elsewhere signs with a development key kept in the store, and warns', async () => {
    const tracker = new MemoryTracker();
    const logger = quiet();
    const first = await open({ tracker, logger });
    expect(logger.warnings.join()).to.match(/development key/);
    const again = await open({ tracker });
    expect(again.publicKey).to.equal(first.publicKey, 'every instance on one store signs alike');
    await first.record('ann', { news: 'granted' });
    expect(verifyReceipt(await again.receipt('ann'), first.publicKey)).to.equal(true);
    expect(() => createConsent({ tracker: new MemoryTracker(), secret: SECRET, logger: quiet() }).publicKey).to.throw(/ready/);
  });

  it('refuses production without a key, and a key that is not Ed25519', () => {
    const production = { ...process.env, NODE_ENV: 'production' };
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = production.NODE_ENV;
    try {
      expect(() => createConsent({ tracker: new MemoryTracker(), secret: SECRET, logger: quiet() })).to.throw(/receipts/);
      expect(() => createConsent({ tracker: new MemoryTracker(), secret: SECRET, logger: quiet(), receipts: { privateKey, controller: 'ACME' } })).to.not.throw();
    } finally {
      process.env.NODE_ENV = saved;
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => createConsent({ tracker: new MemoryTracker(), secret: SECRET, receipts: { privateKey: rsa, controller: 'ACME' } }))
      .to.throw(/Ed25519/).with.property('code', 'invalid_option');
    expect(() => createConsent({ tracker: new MemoryTracker(), secret: SECRET, receipts: { privateKey: 'nope', controller: 'ACME' } }))
      .to.throw(/Ed25519/);
  });

  it('verifies a receipt issued before receipts carried a log proof on its signature, as before', async () => {
    const consent = await open({ receipts: { privateKey, controller: 'ACME' } });
    await consent.record('ann', { analytics: 'granted' });
    const { log, proof: _proof, ...body } = await consent.receipt('ann');
    expect(log?.checkpoint.size).to.equal(1);
    // Signed the way the earlier release signed: every member but `proof`, and no `log`.
    const old = signJson(body, privateKey);
    expect(verifyReceipt(old, publicKey)).to.equal(true);
    expect(verifyReceipt({ ...old, subject: 'other' }, publicKey)).to.equal(false);
    expect(verifyReceipt({ ...old, log: { ...log, leafIndex: 'x' } }, publicKey)).to.equal(false);
  });
});
