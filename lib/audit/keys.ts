import * as crypto from 'node:crypto';
import { createHash, createHmac, hkdfSync } from 'node:crypto';

/**
 * Keys derived from the one `secret`, each for a single purpose, so that a pseudonym can never
 * be replayed as a chain hash or the other way round.
 */
export interface DerivedKeys {
  pseudonym: Buffer;
  chain: Buffer;
  token: Buffer;
  /** AES-256-GCM key of outbox payloads (they name the subject). */
  outbox: Buffer;
  /** AES-256-GCM key of the subject id sealed inside confirmation tokens. */
  tokenSubject: Buffer;
  /** AES-256 key of public event ids (see `eventIdCodec`). */
  eventId: Buffer;
  /** HMAC key of the visitor cookie (see `VisitorCookies`). */
  visitorCookie: Buffer;
  /** AES-256-CTR key of the subject id stored with its chain (audiences; see subject-seal.ts). */
  subjectSiv: Buffer;
  /** AES-256-GCM key of the subject ids earlier releases stored with their chains. */
  subject: Buffer;
  /** HMAC key of the global log's sealed head. */
  log: Buffer;
  /** AES-256 key of the keyed sums that compare the log's leaves with the stored events. */
  logSum: Buffer;
}

function derive(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `express-consent:${purpose}`, 32));
}

export function deriveKeys(secret: Buffer): DerivedKeys {
  return {
    pseudonym: derive(secret, 'pseudonym'),
    chain: derive(secret, 'chain'),
    token: derive(secret, 'token'),
    outbox: derive(secret, 'outbox'),
    tokenSubject: derive(secret, 'token-subject'),
    eventId: derive(secret, 'event-id'),
    visitorCookie: derive(secret, 'visitor-cookie'),
    subjectSiv: derive(secret, 'subject-id-siv'),
    subject: derive(secret, 'subject-id'),
    log: derive(secret, 'log'),
    logSum: derive(secret, 'log-sum'),
  };
}

/** HMAC-SHA-256 pseudonym of a subject id (hex). The id itself is never stored. */
export function pseudonymOf(keys: DerivedKeys, subjectId: string): string {
  return hmacHex(keys.pseudonym, subjectId);
}

// One-shot hashing (Node 20.12 and later); older releases take the Hmac object path below.
const oneShot = (crypto as { hash?: typeof crypto.hash }).hash;

/** A key's HMAC pads (RFC 2104), each followed by room for what is hashed after it. */
interface Pads {
  /** The inner pad, then the text (grown when a text does not fit). */
  inner: Buffer;
  /** The outer pad, then the inner digest. */
  outer: Buffer;
  /**
   * Views of `inner` from its start, by length, made once each: a view per HMAC cost a sixth
   * of the HMAC (every stored event and audience subject is checked with one).
   */
  views: Array<Buffer | undefined>;
}

// Lengths of the views kept: every seal's text and more; a longer text gets a view of its own.
const MAX_VIEW = 4096;

const BLOCK = 64;
const padsByKey = new WeakMap<Buffer, Pads>();

function padsOf(key: Buffer): Pads {
  let pads = padsByKey.get(key);
  if (pads === undefined) {
    const k = key.length > BLOCK ? createHash('sha256').update(key).digest() : key;
    const inner = Buffer.alloc(1024);
    const outer = Buffer.alloc(BLOCK + 32);
    for (let i = 0; i < BLOCK; i += 1) {
      inner[i] = (k[i] ?? 0) ^ 0x36;
      outer[i] = (k[i] ?? 0) ^ 0x5c;
    }
    pads = { inner, outer, views: [] };
    padsByKey.set(key, pads);
  }
  return pads;
}

/**
 * HMAC-SHA-256 of `text` (UTF-8), in hex. Written as its two SHA-256 passes over pads computed
 * once per key: an Hmac object per call cost about twice as much, and verification
 * computes one per stored event. The same value as `createHmac('sha256', key)`.
 */
export function hmacHex(key: Buffer, text: string): string {
  if (oneShot === undefined) return createHmac('sha256', key).update(text, 'utf8').digest('hex');
  const pads = innerPad(key, text.length * 3);
  const length = BLOCK + pads.inner.write(text, BLOCK, 'utf8');
  pads.outer.write(oneShot('sha256', innerView(pads, length), 'binary'), BLOCK, 'binary');
  return oneShot('sha256', pads.outer, 'hex');
}

/**
 * Whether the HMAC-SHA-256 of `message` under `key`, in hex, starts with `expected` (lowercase
 * hex, all 64 digits or a seal's 32): the same pads as `hmacHex`, over bytes, compared without
 * making a string of the digest.
 */
export function hmacMatches(key: Buffer, message: Uint8Array, expected: string): boolean {
  const pads = innerPad(key, message.length);
  pads.inner.set(message, BLOCK);
  return digestMatches(pads, BLOCK + message.length, expected);
}

/** `hmacMatches` of the bytes of `bytes` from `start` to `end`, read where they are (false for a range outside them). */
export function hmacRangeMatches(key: Buffer, bytes: Buffer, start: number, end: number, expected: string): boolean {
  // A range past the end would leave the pad holding part of the message hashed before.
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= bytes.length)) return false;
  const pads = innerPad(key, end - start);
  bytes.copy(pads.inner, BLOCK, start, end);
  return digestMatches(pads, BLOCK + end - start, expected);
}

/**
 * Whether `hmacHex(key, text)` starts with `expected` (all 64 digits, or a seal's 32), compared
 * in time that depends on the length only, without cutting a copy of the digest first.
 */
export function hmacTextMatches(key: Buffer, text: string, expected: string): boolean {
  // A full HMAC or a seal truncated to half: a shorter expected value would match on a prefix.
  if (typeof expected !== 'string' || (expected.length !== 64 && expected.length !== 32)) return false;
  const digest = hmacHex(key, text);
  let differ = 0;
  for (let i = 0; i < expected.length; i += 1) differ |= digest.charCodeAt(i) ^ expected.charCodeAt(i);
  return differ === 0;
}

// The ASCII code of each lower-case hex digit.
const HEX_CODES = Buffer.from('0123456789abcdef', 'latin1');

/** The key's pads, the inner one with room for `bytes` after it. */
function innerPad(key: Buffer, bytes: number): Pads {
  const pads = padsOf(key);
  if (BLOCK + bytes > pads.inner.length) {
    const grown = Buffer.allocUnsafe(BLOCK + bytes);
    pads.inner.copy(grown, 0, 0, BLOCK);
    pads.inner = grown;
    pads.views = [];
  }
  return pads;
}

/** The first `length` bytes of the inner pad (the pad and the message after it). */
function innerView(pads: Pads, length: number): Buffer {
  if (length > MAX_VIEW) return pads.inner.subarray(0, length);
  let view = pads.views[length];
  if (view === undefined) {
    view = pads.inner.subarray(0, length);
    pads.views[length] = view;
  }
  return view;
}

/** The HMAC of the message in the inner pad (`length` bytes with the pad) as a binary (Latin-1) string. */
function digestOf(pads: Pads, length: number): string {
  pads.outer.write(sha256Binary(innerView(pads, length)), BLOCK, 'binary');
  return sha256Binary(pads.outer);
}

/** Whether the HMAC of the message in the inner pad, in hex, starts with `expected` (64 or 32 digits). */
function digestMatches(pads: Pads, length: number, expected: string): boolean {
  // A full HMAC or a seal truncated to half: a shorter expected value would match on a prefix.
  if (typeof expected !== 'string' || (expected.length !== 64 && expected.length !== 32)) return false;
  const digest = digestOf(pads, length);
  let differ = 0;
  for (let i = 0; i < expected.length >> 1; i += 1) {
    const byte = digest.charCodeAt(i);
    differ |= ((HEX_CODES[byte >> 4] as number) ^ expected.charCodeAt(2 * i)) | ((HEX_CODES[byte & 15] as number) ^ expected.charCodeAt(2 * i + 1));
  }
  return differ === 0;
}

/**
 * `hmacMatches` with the expected digits as ASCII bytes: `digits` of them (64, or a seal's 32)
 * at `hex[at]`, compared without making a string of either side (a worker thread compares
 * hundreds of thousands).
 */
export function hmacMatchesAt(key: Buffer, message: Uint8Array, hex: Uint8Array, at: number, digits: number): boolean {
  // A full HMAC or a seal truncated to half: a shorter expected value would match on a prefix.
  if (digits !== 64 && digits !== 32) return false;
  const pads = innerPad(key, message.length);
  pads.inner.set(message, BLOCK);
  const digest = digestOf(pads, BLOCK + message.length);
  let differ = 0;
  for (let i = 0; i < digits >> 1; i += 1) {
    const byte = digest.charCodeAt(i);
    differ |= ((HEX_CODES[byte >> 4] as number) ^ (hex[at + 2 * i] as number)) | ((HEX_CODES[byte & 15] as number) ^ (hex[at + 2 * i + 1] as number));
  }
  return differ === 0;
}

/** SHA-256 of `data` as a binary (Latin-1) string: a Buffer per digest cost twice the hash. */
function sha256Binary(data: Buffer): string {
  return oneShot === undefined ? createHash('sha256').update(data).digest('binary') : oneShot('sha256', data, 'binary');
}

/**
 * Whether two texts (a computed seal and a stored one) are equal, in time that depends on their
 * length only: how far a guess matches must not show in how long the comparison takes.
 */
export function sameText(a: string, b: unknown): boolean {
  // A stored value of another type (a custom tracker's) matches nothing.
  if (typeof b !== 'string' || a.length !== b.length) return false;
  let differ = 0;
  for (let i = 0; i < a.length; i += 1) differ |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return differ === 0;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
