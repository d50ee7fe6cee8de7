/*
 * SHA-256 (FIPS 180-4) for the two fixed-size inputs of the log's Merkle tree, on 32-bit words
 * kept in an Int32Array: a leaf hash H(0x00 ‖ 40-byte leaf), one block, and a node hash
 * H(0x01 ‖ left ‖ right), two blocks. Node's hash functions cost a call into C++ and a new
 * Buffer per digest, several times the compression itself for inputs this small; verification
 * hashes two of them per event. The results are the same digests (the tests compare them with
 * node:crypto). Pure.
 */

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
].map((k) => k | 0));

const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19].map((v) => v | 0));

/** Words of a hash. */
export const HASH_WORDS = 8;

// The message schedule, filled by the callers' first sixteen words, and the working state.
const W = new Int32Array(64);
const S = new Int32Array(HASH_WORDS);

/** One compression of the block in W[0..16) into S. */
function compress(): void {
  for (let i = 16; i < 64; i += 1) {
    const x = W[i - 15] as number;
    const y = W[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = ((W[i - 16] as number) + s0 + (W[i - 7] as number) + s1) | 0;
  }
  let a = S[0] as number, b = S[1] as number, c = S[2] as number, d = S[3] as number;
  let e = S[4] as number, f = S[5] as number, g = S[6] as number, h = S[7] as number;
  for (let i = 0; i < 64; i += 1) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (W[i] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  S[0] = (S[0] as number) + a;
  S[1] = (S[1] as number) + b;
  S[2] = (S[2] as number) + c;
  S[3] = (S[3] as number) + d;
  S[4] = (S[4] as number) + e;
  S[5] = (S[5] as number) + f;
  S[6] = (S[6] as number) + g;
  S[7] = (S[7] as number) + h;
}

/** Bytes of a leaf of the log. */
const LEAF = 40;

/**
 * H(0x00 ‖ leaf) of the 40 bytes of `leaves` from `from`, written as 8 words at `out[at]`.
 * 41 bytes with their padding fill one block: the prefix, the leaf, 0x80, zeros, 328 bits.
 */
export function leafHashWords(leaves: Uint8Array, from: number, out: Int32Array, at: number): void {
  // Word i holds bytes 4i-1 .. 4i+2 of the leaf (byte -1 being the 0x00 prefix).
  let carry = 0;
  for (let i = 0; i < LEAF / 4; i += 1) {
    const j = from + i * 4;
    W[i] = (carry << 24) | ((leaves[j] as number) << 16) | ((leaves[j + 1] as number) << 8) | (leaves[j + 2] as number);
    carry = leaves[j + 3] as number;
  }
  W[10] = (carry << 24) | 0x800000;
  W[11] = 0;
  W[12] = 0;
  W[13] = 0;
  W[14] = 0;
  W[15] = (LEAF + 1) * 8;
  S.set(IV);
  compress();
  out.set(S, at);
}

/**
 * H(0x01 ‖ left ‖ right) of the hashes at `words[left]` and `words[right]`, written at
 * `out[at]` (which may be either input). 65 bytes: two blocks.
 */
export function nodeHashWords(words: Int32Array, left: number, right: number, out: Int32Array, at: number): void {
  // The message shifted one byte to the right of the words' boundaries by the 0x01 prefix.
  let carry = 1;
  for (let i = 0; i < HASH_WORDS; i += 1) {
    const v = words[left + i] as number;
    W[i] = (carry << 24) | (v >>> 8);
    carry = v & 0xff;
  }
  for (let i = 0; i < HASH_WORDS; i += 1) {
    const v = words[right + i] as number;
    W[HASH_WORDS + i] = (carry << 24) | (v >>> 8);
    carry = v & 0xff;
  }
  S.set(IV);
  compress();
  // The last byte of `right`, the end mark, zeros, and the length: 520 bits.
  W[0] = (carry << 24) | 0x800000;
  for (let i = 1; i < 15; i += 1) W[i] = 0;
  W[15] = 65 * 8;
  compress();
  out.set(S, at);
}

/** The hash at `words[at]` as 64 hex digits. */
export function wordsHex(words: Int32Array, at: number): string {
  let hex = '';
  for (let i = 0; i < HASH_WORDS; i += 1) hex += ((words[at + i] as number) >>> 0).toString(16).padStart(8, '0');
  return hex;
}

/** Writes the hash given in hex (64 digits) as 8 words at `out[at]`. */
export function hexWords(hex: string, out: Int32Array, at: number): void {
  for (let i = 0; i < HASH_WORDS; i += 1) out[at + i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16) | 0;
}
