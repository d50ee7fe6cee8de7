import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { types } from 'node:util';
import { canonicalJson } from './canonical-json';

/** Who is responsible for the processing, as named in receipts and checkpoints. */
export interface ReceiptController {
  name: string;
  contact?: string;
}

/** The detached Ed25519 signature that receipts and checkpoints carry. */
export interface SignatureProof {
  alg: 'EdDSA';
  kid: string;
  signature: string;
}

/** The key id receipts and checkpoints carry: SHA-256 (hex) of the public key's SPKI DER encoding. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Signs the RFC 8785 canonical JSON of `body` with Ed25519; `body` with its `proof`. */
export function signJson<T extends object>(body: T, privateKey: KeyObject): T & { proof: SignatureProof } {
  const signature = sign(null, Buffer.from(canonicalJson(body), 'utf8'), privateKey).toString('base64url');
  return { ...body, proof: { alg: 'EdDSA', kid: keyId(createPublicKey(privateKey)), signature } };
}

/** Bytes of an Ed25519 signature. */
const SIGNATURE_BYTES = 64;

/**
 * Whether `text` is the one base64url spelling of an Ed25519 signature. The decoder ignores the
 * unused low bits of the last character (and stray characters after a whole group): without this
 * 16 different strings would verify as the same signature.
 */
function isSignatureText(text: string): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return false;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === SIGNATURE_BYTES && bytes.toString('base64url') === text;
}

// The label of a PEM private key of any format (PKCS #8, encrypted, SEC1, PKCS #1).
const PRIVATE_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

// Levels of nesting a signed document may have (a receipt has five).
const MAX_DEPTH = 32;

/**
 * Whether `value`'s prototype is what `JSON.parse` gives, in this realm or another (a `vm`
 * context, a test runner's): `Object.prototype` for an object (or none), `Array.prototype` for
 * an array, each known by its place in the chain.
 */
function isPlainPrototype(value: object, array: boolean): boolean {
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype === null) return !array;
  const next = Object.getPrototypeOf(prototype) as object | null;
  if (!array) return next === null && Object.prototype.toString.call(value) === '[object Object]';
  return next !== null && Object.getPrototypeOf(next) === null;
}

/**
 * Whether `value` is plain data, as `JSON.parse` makes it: the signature covers the canonical
 * JSON of its own enumerable members, so what a reader finds in it must be exactly those. No
 * member inherited (an object made with another prototype, or one added to `Object.prototype`
 * by prototype pollution, which would read as a member no signature covers) or hidden (not
 * enumerable), no member of an array but its items, no getter (which could answer one thing to
 * the check and another to the caller), no Proxy. A member hidden on a prototype is not seen
 * here: the members a document must have are checked as its own where it is read (receipt.ts).
 */
function isPlainData(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol' && typeof value !== 'bigint';
  if (depth > MAX_DEPTH || types.isProxy(value)) return false;
  const array = Array.isArray(value);
  if (!isPlainPrototype(value, array)) return false;
  for (const name in value) if (!Object.hasOwn(value, name)) return false;
  for (const name of Reflect.ownKeys(value)) {
    if (typeof name === 'symbol') return false;
    if (array && name === 'length') continue;
    if (array && !/^(?:0|[1-9][0-9]*)$/.test(name)) return false;
    const member = Object.getOwnPropertyDescriptor(value, name) as PropertyDescriptor;
    // A hidden member is one the canonical JSON leaves out, as much as an inherited one.
    if (!('value' in member) || member.enumerable !== true) return false;
    if (!isPlainData(member.value, depth + 1)) return false;
  }
  return true;
}

/**
 * Whether `document` is a JSON object (plain data, see `isPlainData`) whose `proof` is an Ed25519
 * signature by `publicKey` over the canonical JSON of everything else. Never throws.
 */
export function verifySignedJson(document: unknown, publicKey: string | KeyObject): boolean {
  try {
    if (document === null || typeof document !== 'object' || Array.isArray(document) || !isPlainData(document) || !Object.hasOwn(document, 'proof')) return false;
    const { proof, ...body } = document as Record<string, unknown>;
    if (proof === null || typeof proof !== 'object') return false;
    const { alg, kid, signature, ...rest } = proof as Record<string, unknown>;
    if (alg !== 'EdDSA' || typeof kid !== 'string' || typeof signature !== 'string' || Object.keys(rest).length > 0) return false;
    if (!isSignatureText(signature)) return false;
    // Node derives the public key from a private one: a verifier handed the signing key by
    // mistake is told no, rather than verifying with a secret it should never have held.
    if (typeof publicKey === 'string' && PRIVATE_PEM.test(publicKey)) return false;
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519' || keyId(key) !== kid) return false;
    return verify(null, Buffer.from(canonicalJson(body), 'utf8'), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
