import { expect } from 'chai';
import fc from 'fast-check';
import { decodeRecords, encodeRecords, RecordBlobError } from '../../lib/tracker';
import { nextLapse } from '../../lib/tracker/record-blob';
import { storedRecords } from '../../lib/tracker/stored-records';
import type { CurrentRecord } from '../../lib/tracker/records';

const record = (requirement: string, fields: Partial<CurrentRecord> = {}): CurrentRecord => ({
  requirement, decision: null, version: null, decidedAt: null, expiresAt: null, gpcOptIn: false,
  pendingVersion: null, pendingAt: null, pendingExpiresAt: null, pendingToken: null, expiryRecorded: false, ...fields,
});

const int = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.maxSafeNat(), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_767_225_600_000));
const orNull = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { nil: null });
const anyRecord = (requirement: string): fc.Arbitrary<CurrentRecord> =>
  fc.record({
    requirement: fc.constant(requirement),
    decision: fc.constantFrom(null, 'granted', 'denied'),
    version: orNull(int),
    decidedAt: orNull(int),
    expiresAt: orNull(int),
    gpcOptIn: fc.boolean(),
    pendingVersion: orNull(int),
    pendingAt: orNull(int),
    pendingExpiresAt: orNull(int),
    pendingToken: orNull(fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b).toString('hex'))),
    expiryRecorded: fc.boolean(),
  });
const requirementIds = fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((id) => Buffer.byteLength(id) <= 255), { minLength: 1, maxLength: 8 });

describe('records stored in their subject row (encodeRecords / decodeRecords)', () => {
  it('gives back exactly the records stored, in requirement order, for any values', () => {
    fc.assert(
      fc.property(requirementIds.chain((ids) => fc.tuple(...ids.map(anyRecord))), (records) => {
        const stored = encodeRecords(records);
        const sorted = [...records].sort((a, b) => (a.requirement < b.requirement ? -1 : 1));
        expect(decodeRecords(stored)).to.deep.equal(sorted);
        expect(storedRecords(stored?.toString('hex').toUpperCase())).to.deep.equal(sorted);
        expect(storedRecords(stored?.toString('hex'))).to.deep.equal(sorted);
      }),
      { numRuns: 300 },
    );
  });

  it('stores no records as null, and a usual grant in a few bytes', () => {
    expect(encodeRecords([])).to.equal(null);
    expect(decodeRecords(null)).to.deep.equal([]);
    const grant = record('analytics', { decision: 'granted', version: 1, decidedAt: 1_735_689_600_000, expiresAt: 1_767_225_600_000 });
    expect(encodeRecords([grant])?.length).to.equal(25);
  });

  it('refuses to store what it could not give back exactly', () => {
    for (const bad of [
      [record('')],
      [record('x'.repeat(256))],
      [record('a'), record('a')],
      [record('a', { version: 1.5 })],
      [record('a', { decidedAt: 2 ** 53 })],
      [record('a', { expiresAt: Number.NaN })],
      [record('a', { pendingToken: 'ABCD' })],
      [record('a', { pendingToken: 'abc' })],
      [record('a', { decision: 'maybe' as never })],
      [record('\ud800')],
    ]) {
      expect(() => encodeRecords(bad), JSON.stringify(bad)).to.throw(RecordBlobError);
    }
  });

  it('refuses bytes it did not write: another format, cut short, left over, out of order, unknown flags, numbers not in their shortest form', () => {
    const good = encodeRecords([record('a', { decision: 'granted', version: 3 }), record('b', { pendingToken: 'ab' })]) as Buffer;
    const cases: Array<[string, Buffer]> = [
      ['another format', Buffer.concat([Buffer.from([2]), good.subarray(1)])],
      ['only the format', Buffer.from([1])],
      ['cut short', good.subarray(0, good.length - 1)],
      ['left over', Buffer.concat([good, Buffer.from([0])])],
      ['a record twice', Buffer.concat([good, good.subarray(1)])],
      ['out of order', Buffer.concat([Buffer.from([1]), (encodeRecords([record('b')]) as Buffer).subarray(1), (encodeRecords([record('a')]) as Buffer).subarray(1)])],
      ['an unknown decision', Buffer.from([1, 1, 0x61, 0b11])],
      ['unknown pending flags', Buffer.from([1, 1, 0x61, 0x80, 0x10])],
      ['no pending flags', Buffer.from([1, 1, 0x61, 0x80, 0x00])],
      ['a number with a trailing zero group', Buffer.from([1, 1, 0x61, 0x10, 0x82, 0x00])],
      ['minus zero', Buffer.from([1, 1, 0x61, 0x10, 0x01])],
      ['a number too long', Buffer.from([1, 1, 0x61, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
      ['an empty requirement', Buffer.from([1, 0, 0])],
      ['a requirement that is not UTF-8', Buffer.from([1, 1, 0xff, 0])],
      ['an empty token', Buffer.from([1, 1, 0x61, 0x80, 0x08, 0x00])],
    ];
    for (const [name, bytes] of cases) {
      expect(() => decodeRecords(bytes), name).to.throw(RecordBlobError);
      // The same bytes as the hex a JSON page gives, in either case.
      expect(() => storedRecords(bytes.toString('hex')), `${name} (hex)`).to.throw(RecordBlobError);
      expect(() => storedRecords(bytes.toString('hex').toUpperCase()), `${name} (HEX)`).to.throw(RecordBlobError);
    }
    expect(() => storedRecords('xyz')).to.throw(RecordBlobError);
    expect(() => storedRecords(42)).to.throw(RecordBlobError);
  });

  it('reads hex only: a character that is no hex digit anywhere (the requirement, a number, the token), or half a byte, is refused', () => {
    const hex = (encodeRecords([record('ab', { decision: 'granted', version: 300, pendingToken: 'abcd' })]) as Buffer).toString('hex');
    expect(storedRecords(hex.replace('ab', 'Ab'))).to.have.length(1);
    for (let at = 0; at < hex.length; at += 1) {
      // The last three: characters whose low byte is a hex digit's (U+0136 ends in 0x36, '6').
      for (const digit of ['g', ' ', 'é', '\u0000', '\u0136', '\u0130', '\u0161']) {
        const bad = `${hex.slice(0, at)}${digit}${hex.slice(at + 1)}`;
        expect(() => storedRecords(bad), JSON.stringify(bad)).to.throw(RecordBlobError);
      }
    }
    expect(() => storedRecords(`${hex}0`)).to.throw(RecordBlobError);
    expect(() => storedRecords(hex.slice(0, -1))).to.throw(RecordBlobError);
    // A name read from hex once is the same when read again.
    const accented = (encodeRecords([record('café')]) as Buffer).toString('hex');
    expect(storedRecords(accented)[0]?.requirement).to.equal('café');
    expect(storedRecords(accented.toUpperCase())[0]?.requirement).to.equal('café');
  });

  it('says when the sweep is next due: the earliest expiry of a grant not yet recorded', () => {
    expect(nextLapse([])).to.equal(null);
    expect(nextLapse([
      record('a', { decision: 'granted', expiresAt: 300 }),
      record('b', { decision: 'granted', expiresAt: 100, expiryRecorded: true }),
      record('c', { decision: 'denied', expiresAt: 50 }),
      record('d', { decision: 'granted', expiresAt: 200 }),
      record('e', { decision: 'granted' }),
    ])).to.equal(200);
  });
});
