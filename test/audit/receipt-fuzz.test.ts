import { expect } from 'chai';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { canonicalJson } from '../../lib/audit/canonical-json';
import { signJson } from '../../lib/audit/signed';
import { ConsentError, createConsent, MemoryTracker, verifyCheckpoint, verifyReceipt, type Checkpoint, type Consent, type ConsentReceipt } from '../../lib/index';

/*
 * verifyReceipt and verifyCheckpoint as a third party uses them: on whatever it was handed,
 * with whatever key it holds. They answer true or false and never throw.
 */

const SEED = 8785;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

const throwing = new Proxy({}, {
  get() { throw new Error('get'); },
  ownKeys() { throw new Error('ownKeys'); },
  getOwnPropertyDescriptor() { throw new Error('descriptor'); },
});
const circular = (): Record<string, unknown> => {
  const o: Record<string, unknown> = { version: 1 };
  o.self = o;
  return o;
};

/** Every kind of value a caller can pass, JSON or not. */
const anyValue = fc.oneof(
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBoxedValues: true }),
  fc.jsonValue(),
  fc.constantFrom<unknown>(throwing, circular(), -0, NaN, Infinity, 2n ** 64n, '\ud800', Symbol('s'), () => true, JSON.parse('{"__proto__":{"proof":1}}')),
);

/** Keys a verifier might be handed by mistake or by an attacker. */
function wrongKeys(): unknown[] {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ed25519');
  return [
    rsa.publicKey, rsa.publicKey.export({ type: 'spki', format: 'pem' }), ec.publicKey, other.publicKey,
    other.publicKey.export({ type: 'spki', format: 'pem' }), other.privateKey, privateKey,
    // The signer's own private key, as a verifier handed it by mistake would pass it.
    privateKey.export({ type: 'pkcs8', format: 'pem' }),
    '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', '', 'not a key', null, undefined, 0, {}, [], throwing,
    Buffer.from(pem), { key: pem, format: 'pem' },
  ];
}

describe('verifyReceipt and verifyCheckpoint on hostile input', () => {
  let consent: Consent;
  let receipt: ConsentReceipt;
  let checkpoint: Checkpoint;

  before(async () => {
    consent = createConsent({ tracker: new MemoryTracker(), secret: 'f'.repeat(40), logger: { warn() {}, error() {} }, receipts: { privateKey, controller: 'ACME' } });
    consent.register([{ id: 'a', title: 'A', description: 'a' }, { id: 'b', title: 'B', description: 'b' }]);
    await consent.ready();
    for (const subject of ['s1', 's2', 's3', 's4', 's5']) await consent.record(subject, { a: 'granted' });
    await consent.record('ann', { a: 'granted', b: 'denied' });
    receipt = await consent.receipt('ann');
    checkpoint = await consent.checkpoint();
    expect(verifyReceipt(receipt, pem)).to.equal(true);
    expect(verifyCheckpoint(checkpoint, pem)).to.equal(true);
  });
  after(() => consent.close());

  it('answer false for anything that is not a signed document, without throwing', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        expect(verifyReceipt(value, pem)).to.equal(false);
        expect(verifyCheckpoint(value, pem)).to.equal(false);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answer false for any key but the signer\'s public key, without throwing', () => {
    for (const key of wrongKeys()) {
      expect(verifyReceipt(receipt, key as string)).to.equal(false);
      expect(verifyCheckpoint(checkpoint, key as string)).to.equal(false);
    }
  });

  it('answer false when any member is hostile (a throwing getter, a cycle, a BigInt), without throwing', () => {
    const paths = (doc: object): string[][] => {
      const out: string[][] = [];
      const walk = (value: unknown, path: string[]) => {
        out.push(path);
        if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      };
      walk(doc, []);
      return out.filter((p) => p.length > 0);
    };
    const replaced = (doc: unknown, path: string[], by: unknown): unknown => {
      if (path.length === 0) return by;
      const copy: Record<string, unknown> = Array.isArray(doc) ? ([...doc] as unknown as Record<string, unknown>) : { ...(doc as Record<string, unknown>) };
      const [head, ...rest] = path as [string, ...string[]];
      copy[head] = replaced(copy[head], rest, by);
      return copy;
    };
    for (const doc of [receipt, checkpoint] as object[]) {
      fc.assert(
        fc.property(fc.constantFrom(...paths(doc)), fc.constantFrom<unknown>(throwing, circular(), 10n, undefined, NaN, Symbol('s')), (path, by) => {
          expect(verifyReceipt(replaced(doc, path, by), pem)).to.equal(false);
          expect(verifyCheckpoint(replaced(doc, path, by), pem)).to.equal(false);
        }),
        { seed: SEED, numRuns: 200 },
      );
    }
  });

  it('answer false for any change to what was signed: a member changed, removed, renamed, duplicated or re-typed', () => {
    const paths: string[][] = [];
    const walk = (value: unknown, path: string[]) => {
      if (path.length > 0) paths.push(path);
      if (value !== null && typeof value === 'object') for (const key of Object.keys(value)) walk((value as Record<string, unknown>)[key], [...path, key]);
    };
    walk(receipt, []);
    const mutated = (path: string[], kind: number, value: unknown, suffix: string): unknown => {
      const copy = structuredClone(receipt) as unknown as Record<string, unknown>;
      const parent = path.slice(0, -1).reduce<Record<string, unknown>>((at, key) => at[key] as Record<string, unknown>, copy);
      const key = path[path.length - 1] as string;
      if (kind === 0) parent[key] = value;
      else if (kind === 1 && Array.isArray(parent)) parent.splice(Number(key), 1);
      else if (kind === 1) Reflect.deleteProperty(parent, key);
      else if (Array.isArray(parent)) parent.push(parent[key]);
      else parent[`${key}${suffix}`] = parent[key];
      return copy;
    };
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.integer({ min: 0, max: 2 }), fc.jsonValue({ maxDepth: 1 }), fc.string({ minLength: 1, maxLength: 3 }), (path, kind, value, suffix) => {
        const changed = mutated(path, kind, value, suffix);
        fc.pre(canonicalJson(changed) !== canonicalJson(receipt));
        expect(verifyReceipt(changed, pem)).to.equal(false);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answer false for a log proof that does not lead to its checkpoint, even signed by the key', () => {
    const { proof: _proof, log, ...body } = receipt;
    if (log === null) throw new Error('the receipt has a log proof');
    const flip = (hex: string) => (hex.startsWith('0') ? '1' : '0') + hex.slice(1);
    const wrong = [
      ...[-2, -1, 1, 2].map((d) => ({ ...log, leafIndex: log.leafIndex + d })),
      ...log.path.map((_, i) => ({ ...log, path: log.path.filter((_p, j) => j !== i) })),
      ...log.path.map((p, i) => ({ ...log, path: log.path.map((q, j) => (j === i ? flip(p) : q)) })),
      { ...log, path: [...log.path, log.leafHash] }, { ...log, path: [...log.path].reverse() }, { ...log, path: [] },
      { ...log, leafHash: flip(log.leafHash) }, { ...log, leafIndex: String(log.leafIndex) }, { ...log, leafIndex: log.leafIndex + 0.5 },
      { ...log, path: log.path.map((p) => p.toUpperCase()) },
    ];
    expect(verifyReceipt(signJson({ ...body, log }, privateKey), pem)).to.equal(true);
    for (const bogus of wrong) expect(verifyReceipt(signJson({ ...body, log: bogus }, privateKey), pem), JSON.stringify(bogus)).to.equal(false);
  });

  it('do not take a checkpoint, or anything else the key signed, for a receipt', () => {
    expect(verifyReceipt(checkpoint, pem)).to.equal(false);
    expect(verifyReceipt(receipt.log?.checkpoint, pem)).to.equal(false);
    expect(verifyReceipt(signJson({ version: 1 }, privateKey), pem)).to.equal(false);
    expect(verifyCheckpoint(receipt, pem)).to.equal(false);
  });

  it('answer false when a member a reader finds is not one the signature covers (inherited, hidden, a getter, a Proxy)', () => {
    const plain = (): Record<string, unknown> => JSON.parse(JSON.stringify(checkpoint)) as Record<string, unknown>;
    const forgedMembers = { receiptId: 'r', subject: 'victim', decisions: [{ requirement: 'a', version: 1, state: 'granted' }] };
    // A checkpoint whose prototype holds what a receipt has: the signature covers none of it.
    expect(verifyReceipt(Object.assign(Object.create(forgedMembers) as object, plain()), pem)).to.equal(false);
    // The same members put on Object.prototype (prototype pollution elsewhere in the process).
    const names = Object.keys(forgedMembers);
    Object.assign(Object.prototype, forgedMembers);
    try {
      expect(verifyReceipt(plain(), pem)).to.equal(false);
      expect(verifyReceipt(JSON.parse(JSON.stringify(receipt)), pem)).to.equal(false);
    } finally {
      for (const name of names) Reflect.deleteProperty(Object.prototype, name);
    }
    expect(verifyReceipt(JSON.parse(JSON.stringify(receipt)), pem)).to.equal(true);
    // A genuine receipt with a member no canonical JSON shows: hidden, or behind a getter that answers the check and the caller apart.
    const hidden = JSON.parse(JSON.stringify(receipt)) as Record<string, unknown>;
    Object.defineProperty(hidden.decisions as object[], 'extra', { value: 1, enumerable: false });
    Object.defineProperty((hidden.decisions as object[])[0] as object, 'expiresAt', { value: '2999-01-01T00:00:00.000Z', enumerable: false });
    expect(verifyReceipt(hidden, pem)).to.equal(false);
    const genuine = JSON.parse(JSON.stringify(receipt)) as Record<string, unknown>;
    let reads = 0;
    const changing = { ...genuine };
    Object.defineProperty(changing, 'subject', { enumerable: true, get: () => (reads++ < 3 ? genuine.subject : 'victim') });
    expect(verifyReceipt(changing, pem)).to.equal(false);
    expect(verifyReceipt(new Proxy(JSON.parse(JSON.stringify(receipt)) as object, {}), pem)).to.equal(false);
    expect(verifyCheckpoint(new Proxy(plain(), {}), pem)).to.equal(false);
    expect(verifyCheckpoint(Object.assign(Object.create({ extra: 1 }) as object, plain()), pem)).to.equal(false);
    // Plain data, with or without a prototype, still verifies.
    expect(verifyCheckpoint(Object.assign(Object.create(null) as object, plain()), pem)).to.equal(true);
    // Members hidden on Object.prototype (not enumerable) make a checkpoint no receipt either.
    for (const [name, value] of Object.entries(forgedMembers)) Object.defineProperty(Object.prototype, name, { value, enumerable: false, configurable: true, writable: true });
    try {
      expect(verifyReceipt(plain(), pem)).to.equal(false);
    } finally {
      for (const name of names) Reflect.deleteProperty(Object.prototype, name);
    }
    // An array holds its items only: another member of it is none the signature covers.
    const extra = JSON.parse(JSON.stringify(receipt)) as { decisions: unknown[] & { note?: string } };
    extra.decisions.note = 'x';
    expect(verifyReceipt(extra, pem)).to.equal(false);
  });

  it('verify documents parsed in another realm (a vm context, as test runners use)', () => {
    const parse = (text: string): unknown => runInNewContext('JSON.parse(text)', { text });
    expect(verifyReceipt(parse(JSON.stringify(receipt)), pem)).to.equal(true);
    expect(verifyCheckpoint(parse(JSON.stringify(checkpoint)), pem)).to.equal(true);
    expect(verifyReceipt(structuredClone(receipt), pem)).to.equal(true);
    const changed = JSON.parse(JSON.stringify(receipt)) as { subject: string };
    changed.subject = 'victim';
    expect(verifyReceipt(parse(JSON.stringify(changed)), pem)).to.equal(false);
  });
});

describe('the signature of a receipt or checkpoint', () => {
  it('verifies in one spelling only: another base64url text of the same bytes is false', async () => {
    const consent = createConsent({ tracker: new MemoryTracker(), secret: 'f'.repeat(40), logger: { warn() {}, error() {} }, receipts: { privateKey, controller: 'ACME' } });
    consent.register({ id: 'a', title: 'A', description: 'a' });
    await consent.ready();
    await consent.record('ann', { a: 'granted' });
    const receipt = await consent.receipt('ann');
    const checkpoint = await consent.checkpoint();
    await consent.close();
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const doc of [receipt, checkpoint] as Array<ConsentReceipt | Checkpoint>) {
      const verify = (signature: string) => {
        const copy = { ...doc, proof: { ...doc.proof, signature } };
        return 'receiptId' in doc ? verifyReceipt(copy, pem) : verifyCheckpoint(copy, pem);
      };
      const { signature } = doc.proof;
      expect(verify(signature)).to.equal(true);
      // The last of 86 characters carries 2 bits of the signature and 4 unused ones.
      const respelled = Array.from(ALPHABET, (c) => signature.slice(0, -1) + c).filter((s) => s !== signature);
      expect(respelled.filter((s) => Buffer.from(s, 'base64url').equals(Buffer.from(signature, 'base64url')))).to.have.length(15);
      for (const s of respelled) expect(verify(s), s).to.equal(false);
      for (const s of [`${signature}A`, `${signature}AA`, `${signature}AAAA`, `${signature}=`, `${signature}==`, signature.slice(0, -1)]) {
        expect(verify(s), s).to.equal(false);
      }
    }
  });
});

describe('the controller receipts name (option receipts.controller)', () => {
  const open = (controller: unknown) =>
    createConsent({ tracker: new MemoryTracker(), secret: 'f'.repeat(40), logger: { warn() {}, error() {} }, receipts: { privateKey, controller } as never });

  it('is refused at creation when receipts would name no controller, another one, or one other verifiers cannot read', () => {
    const refused: unknown[] = [
      5, true, ['ACME'], { name: 5 }, { name: '' }, { name: '  ' }, { contact: 'x@acme.test' }, { name: 'ACME', contact: { email: 'x' } },
      { name: 'ACME', contact: 5 }, { name: 'ACME', email: 'x@acme.test' }, 'AC\ud800ME', { name: 'ACME', contact: 'x\udc00' }, 'AC\u0000ME',
      // Signed into every receipt and checkpoint: as long as a requirement's controller at most.
      'A'.repeat(201), { name: 'A'.repeat(201) }, { name: 'ACME', contact: 'c'.repeat(501) },
    ];
    for (const controller of refused) {
      let error: unknown;
      try {
        open(controller);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(controller)).to.be.instanceOf(ConsentError);
      expect((error as ConsentError).code).to.equal('invalid_option');
      expect((error as ConsentError).extensions.option).to.equal('receipts.controller');
    }
  });

  it('is named as given otherwise', async () => {
    for (const [controller, named] of [
      ['ACME', { name: 'ACME' }], [{ name: 'ACME' }, { name: 'ACME' }], [{ name: 'ACME', contact: null }, { name: 'ACME' }],
      [{ name: 'Ä😀', contact: 'privacy@acme.test' }, { name: 'Ä😀', contact: 'privacy@acme.test' }],
      [{ name: '😀'.repeat(200), contact: 'c'.repeat(500) }, { name: '😀'.repeat(200), contact: 'c'.repeat(500) }],
    ] as Array<[unknown, unknown]>) {
      const consent = open(controller);
      consent.register({ id: 'a', title: 'A', description: 'a' });
      await consent.ready();
      const checkpoint = await consent.checkpoint();
      await consent.close();
      expect(checkpoint.controller).to.deep.equal(named);
      expect(verifyCheckpoint(checkpoint, pem)).to.equal(true);
    }
  });
});
