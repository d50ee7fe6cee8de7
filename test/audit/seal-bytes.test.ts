import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { headSeal, headSealInput } from '../../lib/audit/head-seal';
import { SealBytes } from '../../lib/audit/seal-bytes';
import { emptyRecord, type CurrentRecord } from '../../lib/tracker/records';

/*
 * A head seal's text written as bytes (what the audience threads check) is the UTF-8 of the
 * text `headSealInput` builds, or refused: never other bytes.
 */

const hex = (bytes: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
// Safe integers of every length, the edges of the eight-digit split among them.
const integer = fc.oneof(
  fc.integer({ min: -1_000, max: 1_000 }),
  fc.constantFrom(0, 9, 10, 99_999_999, 100_000_000, 100_000_001, 199_999_999, 1_000_000_000_000, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, -100_000_000),
  fc.maxSafeInteger(),
  fc.maxSafeNat(),
);
const record = (requirement: string): fc.Arbitrary<CurrentRecord> =>
  fc.record({
    decision: fc.constantFrom(null, 'granted' as const, 'denied' as const),
    version: fc.option(integer),
    decidedAt: fc.option(integer),
    expiresAt: fc.option(integer),
    gpcOptIn: fc.boolean(),
    pendingVersion: fc.option(integer),
    pendingAt: fc.option(integer),
    pendingExpiresAt: fc.option(integer),
    pendingToken: fc.option(hex(8)),
    expiryRecorded: fc.boolean(),
  }).map((f) => ({ ...emptyRecord(requirement), ...f }));
// Printable ASCII ids, in order, none twice.
const records = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }), { maxLength: 4 })
  .map((ids) => [...ids].sort())
  .chain((ids) => fc.tuple(...ids.map(record)));
const head = fc.record({ chain: hex(8), pseudonym: hex(32), seq: fc.maxSafeNat(), hash: hex(32), id: fc.maxSafeNat() });

/** What `SealBytes` writes for a head and records, or null when it refuses them. */
function written(h: { chain: unknown; pseudonym: unknown; seq: unknown; hash: unknown; id: unknown }, rs: readonly CurrentRecord[]): Buffer | null {
  const text = new SealBytes();
  return text.head(h.chain, h.pseudonym, h.seq, h.hash, h.id) && text.records(rs) ? Buffer.from(text.bytes) : null;
}

const expected = (h: { chain: string; pseudonym: string; seq: number; hash: string; id: number }, rs: readonly CurrentRecord[]): Buffer =>
  Buffer.from(headSealInput({ ...h, erased: false, id: String(h.id) }, rs), 'utf8');

describe('a head seal text written as bytes', () => {
  it('is the text headSealInput builds, for every value the library writes, or refused for one JSON escapes', () => {
    fc.assert(
      fc.property(head, records, (h, rs) => {
        const bytes = written(h, rs);
        if (rs.some((r) => /["\\]/.test(r.requirement))) expect(bytes).to.equal(null);
        else expect(bytes?.toString('latin1')).to.equal(expected(h, rs).toString('latin1'));
      }),
      { numRuns: 500 },
    );
  });

  it('writes hex of either case in lowercase, as the pages are lowered before the general judge', () => {
    fc.assert(
      fc.property(head, records, (h, rs) => {
        fc.pre(!rs.some((r) => /["\\]/.test(r.requirement)));
        const upper = { ...h, chain: h.chain.toUpperCase(), pseudonym: h.pseudonym.toUpperCase(), hash: h.hash.toUpperCase() };
        expect(written(upper, rs)?.toString('latin1')).to.equal(expected(h, rs).toString('latin1'));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses whatever the general text would write otherwise', () => {
    const h = { chain: 'ab', pseudonym: 'cd', seq: 1, hash: 'ef', id: 2 };
    const r = { ...emptyRecord('ads'), decision: 'granted' as const, version: 1 };
    const refused: Array<[string, unknown, readonly CurrentRecord[]]> = [
      ['a chain that is not hex', { ...h, chain: 'a"b' }, [r]],
      ['a pseudonym that is not a string', { ...h, pseudonym: 12 }, [r]],
      ['a position as text', { ...h, seq: '1' }, [r]],
      ['a position that is not an integer', { ...h, seq: 1.5 }, [r]],
      ['an id past the safe integers', { ...h, id: 2 ** 53 }, [r]],
      ['a version that is not an integer', h, [{ ...r, version: 0.5 }]],
      ['a decision of another value', h, [{ ...r, decision: 'maybe' as never }]],
      ['a decision named as an object member', h, [{ ...r, decision: 'toString' as never }]],
      ['a decision named as the prototype', h, [{ ...r, decision: '__proto__' as never }]],
      ['a flag that is not a boolean', h, [{ ...r, gpcOptIn: 1 as never }]],
      ['a token in capitals', h, [{ ...r, pendingToken: 'AB' }]],
      ['records out of order', h, [{ ...r, requirement: 'b' }, { ...r, requirement: 'a' }]],
      ['a requirement twice', h, [r, r]],
      ['a requirement beyond ASCII', h, [{ ...r, requirement: 'é' }]],
      ['a control character', h, [{ ...r, requirement: 'a\nb' }]],
    ];
    for (const [name, head_, rs] of refused) expect(written(head_ as typeof h, rs), name).to.equal(null);
  });

  it('is sealed exactly when the text is: the HMAC of the bytes matches the seal headSeal made', () => {
    const key = randomBytes(32);
    fc.assert(
      fc.property(head, records, (h, rs) => {
        fc.pre(!rs.some((r) => /["\\]/.test(r.requirement)));
        const seal = headSeal(key, { ...h, erased: false, id: String(h.id) }, rs);
        const text = new SealBytes();
        expect(text.head(h.chain, h.pseudonym, h.seq, h.hash, h.id) && text.records(rs)).to.equal(true);
        expect(text.sealedWith(key, seal)).to.equal(true);
        expect(text.sealedWith(key, `${seal.slice(0, 31)}${seal.endsWith('0') ? '1' : '0'}`)).to.equal(false);
        expect(text.sealedWith(randomBytes(32), seal)).to.equal(false);
      }),
      { numRuns: 100 },
    );
  });
});
