import type { KeyObject } from 'node:crypto';
import { verifyCheckpoint, type Checkpoint } from './checkpoint';
import { rootFromPath } from './merkle';
import { signJson, verifySignedJson, type ReceiptController, type SignatureProof } from './signed';

export type { ReceiptController } from './signed';

/** One decision in a receipt: what was shown (by `textHash`) and where the subject stands. */
export interface ReceiptDecision {
  requirement: string;
  version: number;
  state: string;
  /** The version's lawful basis; null for a version this store never held (imported). */
  lawfulBasis: string | null;
  decidedAt: string | null;
  expiresAt: string | null;
  /**
   * The hash of the version's whole text (every locale): `consent.text(textHash)` returns it.
   * Null for a version this store never held: decisions imported from another system for a
   * version older than any registered here, whose text it cannot vouch for.
   */
  textHash: string | null;
  /** The locale the text was shown in when the subject last decided (null when neither it nor the version is known). */
  locale: string | null;
}

/**
 * Where the subject's newest event stands in the global log: its leaf, the audit path from it to
 * the root of `checkpoint`, and that checkpoint. With it the subject can show later that the
 * event existed when the receipt was issued, and anyone holding the receipt can ask the
 * controller to show that the log still extends the checkpoint (`verify({ checkpoint })`).
 */
export interface ReceiptLogProof {
  /** The public id of the subject's newest event. */
  eventId: string;
  /** Its place in the log (0-based). */
  leafIndex: number;
  /** Its Merkle leaf hash (hex). */
  leafHash: string;
  /** The audit path (RFC 9162 §2.1.3), nearest sibling first (hex). */
  path: string[];
  checkpoint: Checkpoint;
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
  /** The proof that the subject's newest event is in the global log; null without events. */
  log: ReceiptLogProof | null;
  proof: SignatureProof;
}

/** A receipt before signing. */
export type UnsignedReceipt = Omit<ConsentReceipt, 'proof'>;

/** Signs the RFC 8785 canonical JSON of everything but `proof` with Ed25519. */
export function signReceipt(body: UnsignedReceipt, privateKey: KeyObject): ConsentReceipt {
  return signJson(body, privateKey);
}

const HEX = /^[0-9a-f]{64}$/;

// The members every receipt has had.
const RECEIPT_MEMBERS = ['version', 'receiptId', 'issuedAt', 'subject', 'decisions', 'controller'];

/**
 * Whether `value` has the members every receipt has had (the signature not checked). Checkpoints
 * are signed with the same key over the same kind of JSON: without this, one would pass as a receipt.
 */
function isReceiptShaped(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  // Its own members: one found on a prototype (hidden there by prototype pollution) is none.
  if (!RECEIPT_MEMBERS.every((name) => Object.hasOwn(value, name))) return false;
  const r = value as Record<string, unknown>;
  return r.version === 1 && typeof r.receiptId === 'string' && typeof r.issuedAt === 'string' && typeof r.subject === 'string' &&
    Array.isArray(r.decisions) && (r.controller === null || (typeof r.controller === 'object' && !Array.isArray(r.controller)));
}

/** Whether a receipt's `log` proves its leaf into its checkpoint, signed by the same key. */
function logProofHolds(log: unknown, publicKey: string | KeyObject): boolean {
  if (log === null || typeof log !== 'object' || Array.isArray(log)) return false;
  const { leafIndex, leafHash, path, checkpoint } = log as Record<string, unknown>;
  if (!verifyCheckpoint(checkpoint, publicKey)) return false;
  if (typeof leafHash !== 'string' || !HEX.test(leafHash) || !Array.isArray(path)) return false;
  if (!path.every((p) => typeof p === 'string' && HEX.test(p))) return false;
  const { size, root } = checkpoint as Checkpoint;
  const computed = rootFromPath(leafIndex as number, size, Buffer.from(leafHash, 'hex'), (path as string[]).map((p) => Buffer.from(p, 'hex')));
  return computed !== null && computed.toString('hex') === root;
}

/**
 * Checks a receipt offline against the controller's public key (SPKI PEM or a KeyObject):
 * true only for a receipt (not another document signed with the key, such as a checkpoint) whose
 * key id matches, whose Ed25519 signature covers exactly this receipt and,
 * when it carries a `log` proof, its checkpoint is signed by the same key and the audit path
 * leads from the leaf to the checkpoint's root. A receipt issued before receipts carried `log`
 * verifies on its signature alone. Synchronous; never throws (anything malformed is false).
 *
 * @example verifyReceipt(await res.json(), publicKeyPem) // → true
 */
export function verifyReceipt(receipt: unknown, publicKey: string | KeyObject): boolean {
  try {
    if (!isReceiptShaped(receipt) || !verifySignedJson(receipt, publicKey)) return false;
    // A log found only on a prototype is no part of the receipt, nor a proof of it.
    if ('log' in receipt && !Object.hasOwn(receipt, 'log')) return false;
    const log = receipt.log;
    return log === undefined || log === null || logProofHolds(log, publicKey);
  } catch {
    return false;
  }
}
