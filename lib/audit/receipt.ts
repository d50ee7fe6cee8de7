import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/** Who is responsible for the processing, as named in receipts. */
export interface ReceiptController {
  name: string;
  contact?: string;
}

/** One decision in a receipt: what was shown (by `textHash`) and where the subject stands. */
export interface ReceiptDecision {
  requirement: string;
  version: number;
  state: string;
  lawfulBasis: string;
  decidedAt: string | null;
  expiresAt: string | null;
  /** The hash of the version's whole text (every locale): `consent.text(textHash)` returns it. */
  textHash: string;
  /** The locale the text was shown in when the subject last decided. */
  locale: string;
}

/** A signed consent receipt (fields after ISO/IEC TS 27560 and the Kantara Consent Receipt). */
export interface ConsentReceipt {
  version: 1;
  receiptId: string;
  issuedAt: string;
  controller: ReceiptController | null;
  /** The subject's pseudonym, never the id itself. */
  subject: string;
  decisions: ReceiptDecision[];
  proof: { alg: 'EdDSA'; kid: string; signature: string };
}

/** A receipt before signing. */
export type UnsignedReceipt = Omit<ConsentReceipt, 'proof'>;

/** The key id receipts carry: SHA-256 (hex) of the public key's SPKI DER encoding. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Signs the RFC 8785 canonical JSON of everything but `proof` with Ed25519. */
export function signReceipt(body: UnsignedReceipt, privateKey: KeyObject): ConsentReceipt {
  const signature = sign(null, Buffer.from(canonicalJson(body), 'utf8'), privateKey).toString('base64url');
  return { ...body, proof: { alg: 'EdDSA', kid: keyId(createPublicKey(privateKey)), signature } };
}

/**
 * Checks a receipt offline against the controller's public key (SPKI PEM or a KeyObject):
 * true only when the key id matches and the Ed25519 signature covers exactly this receipt.
 * Synchronous; never throws (anything malformed is simply false).
 *
 * @example verifyReceipt(await res.json(), publicKeyPem) // → true
 */
export function verifyReceipt(receipt: unknown, publicKey: string | KeyObject): boolean {
  try {
    if (receipt === null || typeof receipt !== 'object' || Array.isArray(receipt)) return false;
    const { proof, ...body } = receipt as Record<string, unknown>;
    if (proof === null || typeof proof !== 'object') return false;
    const { alg, kid, signature, ...rest } = proof as Record<string, unknown>;
    if (alg !== 'EdDSA' || typeof kid !== 'string' || typeof signature !== 'string' || Object.keys(rest).length > 0) return false;
    if (!/^[A-Za-z0-9_-]+$/.test(signature)) return false;
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    if (key.asymmetricKeyType !== 'ed25519' || keyId(key) !== kid) return false;
    return verify(null, Buffer.from(canonicalJson(body), 'utf8'), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
