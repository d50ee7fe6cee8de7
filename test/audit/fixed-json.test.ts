import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalJson } from '../../lib/audit/canonical-json';
import { eventHash, legacyHeadMac, personalDigest } from '../../lib/audit/chain';
import { PersonalDigestMemo } from '../../lib/audit/digest-memo';
import { chainedFieldsJson, headFieldsJson, personalFieldsJson } from '../../lib/audit/fixed-json';

// Strings with what JSON escapes or sorts oddly: controls, quotes, backslashes, U+2028,
// astral characters and lone surrogates.
const odd = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', '😀', 'é', '/') }),
);
const nullable = fc.option(odd, { nil: null });
const number = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e21, 1e-7, 2 ** 53, Date.now()));

const chained = fc.record({
  chain: odd, seq: number, id: odd, prevId: nullable, requirement: odd, version: number, action: odd,
  state: odd, source: odd, at: number, personalDigest: odd,
});
// The salt is a member only when set: an event without one hashes as before salts.
const personal = fc.record(
  { actor: nullable, note: nullable, data: nullable, ip: nullable, userAgent: nullable, personalSalt: odd },
  { requiredKeys: ['actor', 'note', 'data', 'ip', 'userAgent'] },
);
const head = fc.record({ chain: odd, seq: number, hash: odd, id: nullable, erased: fc.boolean() });
// What a tampered or foreign row could hold instead: wrong types, missing and non-finite values.
const anything = fc.oneof(fc.constantFrom(undefined, NaN, Infinity, -Infinity, true), fc.object(), fc.array(fc.integer()), odd, number);

/** `serialise(value)` and `canonicalJson(value)` print the same, or throw the same error. */
function same<T>(serialise: (value: T) => string, value: T): void {
  let expected: string | Error;
  try {
    expected = canonicalJson(value);
  } catch (error) {
    expected = error as Error;
  }
  if (expected instanceof Error) {
    expect(() => serialise(value)).to.throw(expected.constructor as typeof Error, expected.message);
  } else {
    expect(serialise(value)).to.equal(expected);
  }
}

describe('fixed-shape canonical JSON of the hashed records', () => {
  it('prints exactly the bytes of canonicalJson for any field values', () => {
    fc.assert(fc.property(chained, (f) => { same((x: typeof f) => chainedFieldsJson(x, x.personalDigest), f); }), { numRuns: 2000 });
    fc.assert(fc.property(personal, (f) => { same(personalFieldsJson, f); }), { numRuns: 1000 });
    fc.assert(fc.property(head, (f) => { same(headFieldsJson, f); }), { numRuns: 1000 });
    const unsalted = { actor: 'a', note: null, data: null, ip: '198.51.100.7', userAgent: null };
    expect(personalFieldsJson({ ...unsalted, personalSalt: null })).to.equal(canonicalJson(unsalted));
  });

  it('falls back to canonicalJson, output or error, when a value has another type', () => {
    const fields = ['chain', 'seq', 'id', 'prevId', 'requirement', 'version', 'action', 'state', 'source', 'at', 'personalDigest'];
    const mangled = fc.tuple(chained, fc.constantFrom(...fields), anything).map(([f, key, value]) => ({ ...f, [key]: value }));
    fc.assert(fc.property(mangled, (f) => { same((x: typeof f) => chainedFieldsJson(x, x.personalDigest), f); }), { numRuns: 2000 });
    const personalMangled = fc.tuple(personal, fc.constantFrom('actor', 'note', 'data', 'ip', 'userAgent'), anything).map(([f, key, value]) => ({ ...f, [key]: value }));
    fc.assert(fc.property(personalMangled, (f) => { same(personalFieldsJson, f); }), { numRuns: 1000 });
    expect(() => chainedFieldsJson({ ...fc.sample(chained, 1)[0]!, seq: NaN }, 'ab')).to.throw(TypeError, 'non-finite');
  });

  it('keeps the hash format: known HMACs of known records', () => {
    // Computed with createHmac over the generic canonicalJson (format ec3, where the actor is a
    // personal field), independently of the fixed-shape serialisers.
    const key = Buffer.alloc(32, 7);
    const fields = {
      chain: 'c0ffee', seq: 2, id: '12', prevId: '11', requirement: 'ads', version: 3, action: 'grant', state: 'granted',
      source: 'api', at: 1700000000123, personalDigest: 'ab'.repeat(32),
    };
    expect(eventHash(key, '0'.repeat(64), fields)).to.equal('73f149b65d79fdc67a9452ffefdd45f0da39c02366e683b3c6bc99b46b43c1ca');
    const first = { ...fields, seq: 1, id: '11', prevId: null, version: 1, action: 'deny', state: 'denied', source: 'import', at: 0, personalDigest: 'cd'.repeat(32) };
    expect(eventHash(key, 'f'.repeat(64), first)).to.equal('3d7641b447fb006fd8b162ab6ffb5f32e8dfcb1d26f6d6783f6f59f15feae430');
    expect(personalDigest(key, { actor: null, note: null, data: null, ip: null, userAgent: null })).to.equal('096886cca1e9030408651a6ac499913279e7e8aa2838f0651bdc6292c32ef55e');
    expect(personalDigest(key, { actor: 'Zoë "admin" \u2028\ud800', note: 'n\u00e9\n', data: '{"a":1}', ip: '::1', userAgent: 'UA/1.0 \u{1F600}' }))
      .to.equal('ec5ff86f74aee92ba446276de5471ecbfd47d6a97c676389b90b9ae59e4054eb');
    expect(legacyHeadMac(key, { chain: 'c0ffee', seq: 2, hash: 'ab'.repeat(32), id: '12', erased: true })).to.equal('60c620790eb9f1f29351b52e119294dbd05949de3dfcab34f8096fb40babbd91');
    expect(legacyHeadMac(key, { chain: 'c0ffee', seq: 0, hash: '0'.repeat(64), id: null, erased: false })).to.equal('c4259c546587d7e5c1250b46beeaad307f202827ff280603253243dac10526cb');
    // A stored null personal digest stands for the digest of no personal fields: the same hash.
    const none = personalDigest(key, { actor: null, note: null, data: null, ip: null, userAgent: null });
    expect(eventHash(key, '0'.repeat(64), { ...fields, personalDigest: null })).to.equal(eventHash(key, '0'.repeat(64), { ...fields, personalDigest: none }));
  });

  it('memoised personal digests equal fresh ones, also past the memo size and for long fields', () => {
    const key = Buffer.alloc(32, 9);
    const memo = new PersonalDigestMemo(key, 8);
    const none = { actor: null, note: null, data: null, ip: null, userAgent: null };
    const values = [none, ...fc.sample(personal, 40), none, { ...none, note: 'x'.repeat(600) }, { ...none, actor: 'ops' }];
    for (const f of [...values, ...values.reverse()]) expect(memo.of(f)).to.equal(personalDigest(key, f));
  });
});
