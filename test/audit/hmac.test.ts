import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { hmacHex, hmacMatches, hmacRangeMatches, hmacTextMatches, sameText } from '../../lib/audit/keys';

const reference = (key: Buffer, text: string): string => createHmac('sha256', key).update(text, 'utf8').digest('hex');

// Texts around the sizes the pads start with and grow to, with multi-byte and lone surrogates.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 3000 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '😀', '\ud800', '\u0000', '€'), maxLength: 1500 }),
);
// Short, block-sized and longer-than-a-block keys (the last are hashed first).
const key = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 130 }),
  fc.constantFrom(64, 65, 32).map((n) => new Uint8Array(n).fill(n)),
).map((bytes) => Buffer.from(bytes));

describe('hmacHex', () => {
  it('equals Node’s Hmac for any key and text, in any order of calls', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, text), { minLength: 1, maxLength: 8 }), (calls) => {
        for (const [k, t] of calls) expect(hmacHex(k, t)).to.equal(reference(k, t));
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same digest for a short text after a long one grew its buffer', () => {
    const k = Buffer.alloc(32, 7);
    const long = 'x'.repeat(10_000);
    expect(hmacHex(k, long)).to.equal(reference(k, long));
    expect(hmacHex(k, 'short')).to.equal(reference(k, 'short'));
    expect(hmacHex(k, '')).to.equal(reference(k, ''));
  });

  it('gives the same digest for a text of a length hashed before its buffer grew, and after', () => {
    const k = Buffer.alloc(32, 8);
    const before = 'y'.repeat(300);
    const after = 'z'.repeat(300);
    expect(hmacHex(k, before)).to.equal(reference(k, before));
    expect(hmacMatches(k, Buffer.from(before), reference(k, before))).to.equal(true);
    expect(hmacHex(k, 'w'.repeat(20_000))).to.equal(reference(k, 'w'.repeat(20_000)));
    expect(hmacHex(k, after)).to.equal(reference(k, after));
    expect(hmacMatches(k, Buffer.from(after), reference(k, after))).to.equal(true);
    expect(hmacMatches(k, Buffer.from(after), reference(k, before))).to.equal(false);
  });

  it('equals Node’s Hmac at every text length across the first block boundaries, and refuses a digest one bit off', () => {
    for (const k of [Buffer.alloc(32, 3), Buffer.alloc(100, 4)]) {
      for (let length = 0; length <= 200; length += 1) {
        const t = 'abcdefghij'.repeat(20).slice(0, length);
        const digest = reference(k, t);
        expect(hmacHex(k, t), String(length)).to.equal(digest);
        expect(hmacMatches(k, Buffer.from(t), digest), String(length)).to.equal(true);
        const off = `${digest.slice(0, 40)}${(Number.parseInt(digest[40] as string, 16) ^ 1).toString(16)}${digest.slice(41)}`;
        expect(hmacMatches(k, Buffer.from(t), off), String(length)).to.equal(false);
      }
    }
  });

  it('keeps keys apart: each key has its own pads', () => {
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    expect(hmacHex(a, 'm')).to.equal(reference(a, 'm'));
    expect(hmacHex(b, 'm')).to.equal(reference(b, 'm'));
    expect(hmacHex(a, 'm')).to.not.equal(hmacHex(b, 'm'));
  });
});

describe('hmacRangeMatches (the stored ids an audience opens, read where they are)', () => {
  it('is hmacMatches of the range, and false for a range outside the bytes, even right after the same message', () => {
    const k = Buffer.alloc(32, 9);
    const bytes = Buffer.from('xxhello worldyy');
    const digest = reference(k, 'hello world');
    expect(hmacRangeMatches(k, bytes, 2, 13, digest)).to.equal(true);
    expect(hmacRangeMatches(k, bytes, 2, 12, digest)).to.equal(false);
    // The pad still holds "hello world": a range past the end must not hash what it left there.
    expect(hmacMatches(k, Buffer.from('hello world'), digest)).to.equal(true);
    for (const [start, end] of [[0, 11], [4, 15 + 1], [13, 2], [-1, 10], [0.5, 11.5]] as const) {
      expect(hmacRangeMatches(k, Buffer.alloc(0), start, end, digest), `${String(start)}..${String(end)}`).to.equal(false);
    }
  });
});

describe('hmacMatches (what a worker thread of verify() checks)', () => {
  it('is true exactly for Node’s Hmac of the text’s UTF-8 bytes, interleaved with hmacHex on the same key', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, text), { minLength: 1, maxLength: 8 }), (calls) => {
        for (const [k, t] of calls) {
          const digest = reference(k, t);
          const bytes = Buffer.from(t, 'utf8');
          expect(hmacMatches(k, bytes, digest)).to.equal(true);
          expect(hmacHex(k, t)).to.equal(digest);
          expect(hmacMatches(k, bytes, digest.toUpperCase())).to.equal(digest === digest.toUpperCase());
          expect(hmacMatches(k, bytes, `${digest.slice(0, 63)}${digest.endsWith('0') ? '1' : '0'}`)).to.equal(false);
          // Only a whole HMAC or its first half (a truncated seal) can match, never a shorter prefix.
          expect(hmacMatches(k, bytes, digest.slice(0, 32))).to.equal(true);
          for (const length of [0, 2, 31, 33, 63]) expect(hmacMatches(k, bytes, digest.slice(0, length)), String(length)).to.equal(false);
          // A character whose low byte is a digit's is no digit (U+0130 ends in 0x30, '0').
          const first = digest.charCodeAt(0);
          expect(hmacMatches(k, bytes, `${String.fromCharCode(0x100 | first)}${digest.slice(1)}`)).to.equal(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('hmacTextMatches (the read paths\' check of a seal)', () => {
  it('agrees with hmacHex and sameText for any key and text, a whole HMAC or its first half', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, text), { minLength: 1, maxLength: 8 }), (calls) => {
        for (const [k, t] of calls) {
          const digest = reference(k, t);
          expect(hmacTextMatches(k, t, digest)).to.equal(true);
          expect(hmacTextMatches(k, t, digest.slice(0, 32))).to.equal(sameText(hmacHex(k, t).slice(0, 32), digest.slice(0, 32)));
          expect(hmacTextMatches(k, t, `${digest.slice(0, 31)}${digest[31] === '0' ? '1' : '0'}`)).to.equal(false);
          expect(hmacTextMatches(k, t, digest.toUpperCase())).to.equal(digest === digest.toUpperCase());
          for (const length of [0, 2, 31, 33, 63]) expect(hmacTextMatches(k, t, digest.slice(0, length)), String(length)).to.equal(false);
          expect(hmacTextMatches(k, t, 7 as unknown as string)).to.equal(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});
