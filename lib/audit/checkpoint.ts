import type { KeyObject } from 'node:crypto';
import { signJson, verifySignedJson, type ReceiptController, type SignatureProof } from './signed';

/**
 * A signed statement of the global log's state: its first `size` leaves have the tree root
 * `root`. Kept where the database's owner cannot rewrite it, it lets `verify({ checkpoint })`
 * show later that the store still extends it (nothing was rolled back).
 */
export interface Checkpoint {
  version: 1;
  /** Leaves (events) in the log. */
  size: number;
  /** The Merkle tree root of those leaves (RFC 9162 style, SHA-256), hex. */
  root: string;
  /** ISO-8601 UTC. */
  issuedAt: string;
  controller: ReceiptController | null;
  proof: SignatureProof;
}

const HEX_ROOT = /^[0-9a-f]{64}$/;
const MEMBERS = ['controller', 'issuedAt', 'proof', 'root', 'size', 'version'];

/** Whether `value` has the shape of a checkpoint (its signature not checked). */
export function isCheckpointShaped(value: unknown): value is Checkpoint {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const c = value as Record<string, unknown>;
  if (Object.keys(c).sort().join() !== MEMBERS.join()) return false;
  return c.version === 1 && Number.isSafeInteger(c.size) && (c.size as number) >= 0 && typeof c.root === 'string' &&
    HEX_ROOT.test(c.root) && typeof c.issuedAt === 'string' && !Number.isNaN(Date.parse(c.issuedAt)) &&
    (c.controller === null || (typeof c.controller === 'object' && !Array.isArray(c.controller)));
}

/** Signs a checkpoint with the receipts key. */
export function signCheckpoint(body: Omit<Checkpoint, 'proof'>, privateKey: KeyObject): Checkpoint {
  return signJson(body, privateKey);
}

/**
 * Checks a checkpoint offline against the controller's public key (SPKI PEM or a KeyObject):
 * true only for a well-formed checkpoint whose Ed25519 signature (and key id) match. Synchronous;
 * never throws.
 *
 * @example verifyCheckpoint(JSON.parse(await readFile('checkpoint.json', 'utf8')), publicKeyPem) // → true
 */
export function verifyCheckpoint(checkpoint: unknown, publicKey: string | KeyObject): boolean {
  try {
    return isCheckpointShaped(checkpoint) && verifySignedJson(checkpoint, publicKey);
  } catch {
    // Members that throw when read (a getter, a Proxy): no checkpoint.
    return false;
  }
}
