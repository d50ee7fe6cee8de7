import { expect } from 'chai';
import fc from 'fast-check';
import { eventHashInput, noPersonalDigest } from '../../lib/audit/chain';
import type { HashedFields } from '../../lib/audit/fields';
import { headSealInput, type HeadSealFields } from '../../lib/audit/head-seal';
import { eventInputBytes, headInputBytes, InputBytes } from '../../lib/audit/input-bytes';
import type { CurrentRecord } from '../../lib/tracker/records';

const KEY = Buffer.alloc(32, 3);

// Mostly what stores hold (hex, names, digits), sometimes what JSON escapes or is beyond ASCII.
const plain = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF_- ./:~'.split('')), maxLength: 70 });
const odd = fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u0080', '\u2028', '\ud800', '😀', 'é', 'a') });
const text = fc.oneof({ weight: 8, arbitrary: plain }, { weight: 1, arbitrary: odd });
const number = fc.oneof(fc.integer(), fc.constantFrom(0, -0, 1.5, -(2 ** 53), 2 ** 53, 2 ** 53 + 2, 1e21, Date.now(), -Date.now(), NaN, Infinity));
const anything = fc.oneof(text, number, fc.constant(null), fc.constant(undefined), fc.boolean(), fc.constant({}), fc.constant([1]));
const orNull = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
// Mostly the usual types; sometimes any value at all, as a tampered or foreign row could hold.
const maybeOdd = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 12, arbitrary: arb }, { weight: 1, arbitrary: anything });

const event = fc.record({
  chain: maybeOdd(text), seq: maybeOdd(number), id: maybeOdd(text), prevId: maybeOdd(orNull(text)), requirement: maybeOdd(text),
  version: maybeOdd(number), action: maybeOdd(text), state: maybeOdd(text), source: maybeOdd(text), at: maybeOdd(number),
  personalDigest: maybeOdd(orNull(text)), locale: maybeOdd(orNull(text)), context: maybeOdd(orNull(text)),
}, { requiredKeys: ['chain', 'seq', 'id', 'prevId', 'requirement', 'version', 'action', 'state', 'source', 'at', 'personalDigest'] }) as fc.Arbitrary<HashedFields>;

const record = fc.record({
  requirement: maybeOdd(text), decision: maybeOdd(orNull(text)), version: maybeOdd(orNull(number)), decidedAt: maybeOdd(orNull(number)),
  expiresAt: orNull(number), gpcOptIn: maybeOdd(fc.boolean()), pendingVersion: orNull(number), pendingAt: orNull(number),
  pendingExpiresAt: orNull(number), pendingToken: orNull(text), expiryRecorded: maybeOdd(fc.boolean()),
}) as fc.Arbitrary<CurrentRecord>;
const head = fc.record({
  chain: maybeOdd(text), pseudonym: maybeOdd(orNull(text)), erased: maybeOdd(fc.boolean()), seq: maybeOdd(number), hash: maybeOdd(text), id: maybeOdd(orNull(text)),
}) as fc.Arbitrary<HeadSealFields>;

/** The bytes written, or null when the writer left the text to the string functions. */
function written(write: (out: InputBytes) => boolean): Buffer | null {
  // A small buffer, so that growing is exercised too, with bytes before the text that must stay.
  const out = new InputBytes(Buffer.alloc(8), 3);
  out.buffer.write('xyz');
  if (!write(out)) return null;
  expect(out.buffer.subarray(0, 3).toString()).to.equal('xyz');
  return out.buffer.subarray(3, out.at);
}

/** The UTF-8 of the text `build` makes, or null where it throws. */
function encoded(build: () => string): Buffer | null {
  try {
    return Buffer.from(build(), 'utf8');
  } catch {
    return null;
  }
}

describe('hash texts written as bytes (the batches verify() hands to its threads)', () => {
  it('writes the UTF-8 of eventHashInput, or leaves the event to it', () => {
    let fast = 0;
    fc.assert(fc.property(text, event, (previous, f) => {
      const bytes = written((out) => eventInputBytes(out, previous, f, f.personalDigest ?? noPersonalDigest(KEY)));
      if (bytes === null) return;
      fast += 1;
      const expected = encoded(() => eventHashInput(KEY, previous, f));
      expect(expected, 'a text the string functions refuse').to.not.equal(null);
      expect(bytes.equals(expected as Buffer), `${bytes.toString()} vs ${String(expected)}`).to.equal(true);
    }), { numRuns: 3000 });
    expect(fast).to.be.greaterThan(100);
  });

  it('writes the UTF-8 of headSealInput, or leaves the head to it', () => {
    let fast = 0;
    fc.assert(fc.property(head, fc.array(record, { maxLength: 4 }), (h, records) => {
      const bytes = written((out) => headInputBytes(out, h, records));
      if (bytes === null) return;
      fast += 1;
      const expected = encoded(() => headSealInput(h, records));
      expect(bytes.equals(expected as Buffer), `${bytes.toString()} vs ${String(expected)}`).to.equal(true);
    }), { numRuns: 3000 });
    expect(fast).to.be.greaterThan(100);
  });

  it('writes the common event and head byte for byte', () => {
    const f: HashedFields = {
      chain: '6b12e5a357778183', seq: 2, id: '12', prevId: '11', requirement: 'ads', version: 3, action: 'grant', state: 'granted',
      source: 'api', at: 1700000000123, personalDigest: null, locale: 'en', context: 'banner',
    };
    const previous = 'ab'.repeat(32);
    expect(written((out) => eventInputBytes(out, previous, f, noPersonalDigest(KEY)))?.toString()).to.equal(eventHashInput(KEY, previous, f));
    const records: CurrentRecord[] = [
      { requirement: 'ads', decision: 'granted', version: 1, decidedAt: 1700000000123, expiresAt: null, gpcOptIn: false, pendingVersion: null, pendingAt: null, pendingExpiresAt: null, pendingToken: null, expiryRecorded: false },
      { requirement: 'b', decision: null, version: null, decidedAt: null, expiresAt: -5, gpcOptIn: true, pendingVersion: 2, pendingAt: 0, pendingExpiresAt: 9, pendingToken: 'ff', expiryRecorded: true },
    ];
    const h: HeadSealFields = { chain: '6b12', pseudonym: null, erased: true, seq: 4, hash: previous, id: '40' };
    expect(written((out) => headInputBytes(out, h, records))?.toString()).to.equal(headSealInput(h, records));
    // Out of requirement order: left to headSealInput, which sorts them.
    expect(written((out) => headInputBytes(out, h, [...records].reverse()))).to.equal(null);
  });
});
