import { expect } from 'chai';
import fc from 'fast-check';
import { GENESIS } from '../../lib/audit/chain';
import { headSeal, headSealInput, recordsJson, snapshotSealed, versionSeal, versionSealed } from '../../lib/audit/head-seal';
import type { CurrentRecord, SubjectSnapshot } from '../../lib/tracker/records';
import { storedVersion } from '../../lib/testing/fixtures';

const KEY = Buffer.alloc(32, 5);
const text = fc.string({ unit: 'binary', maxLength: 12 });
const orNull = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const record: fc.Arbitrary<CurrentRecord> = fc.record({
  requirement: text,
  decision: orNull(fc.constantFrom('granted' as const, 'denied' as const)),
  version: orNull(fc.integer()),
  decidedAt: orNull(fc.double()),
  expiresAt: orNull(fc.integer()),
  gpcOptIn: fc.boolean(),
  pendingVersion: orNull(fc.integer()),
  pendingAt: orNull(fc.integer()),
  pendingExpiresAt: orNull(fc.integer()),
  pendingToken: orNull(text),
  expiryRecorded: fc.boolean(),
});
const values = (r: CurrentRecord) => [
  r.requirement, r.decision, r.version, r.decidedAt, r.expiresAt, r.gpcOptIn, r.pendingVersion, r.pendingAt, r.pendingExpiresAt, r.pendingToken, r.expiryRecorded,
];

describe('head and version seals (pure)', () => {
  it('encodes records as JSON.stringify of their members would, sorted by requirement', () => {
    fc.assert(fc.property(fc.array(record, { maxLength: 5 }), (records) => {
      const sorted = [...records].sort((a, b) => (a.requirement < b.requirement ? -1 : a.requirement > b.requirement ? 1 : 0));
      expect(recordsJson(records)).to.equal(JSON.stringify(sorted.map(values)));
    }), { numRuns: 500 });
  });

  it("prints the head's members as JSON.stringify of them would, whatever they hold", () => {
    const head = fc.record({ chain: text, pseudonym: orNull(text), erased: fc.boolean(), seq: fc.oneof(fc.integer(), fc.double()), hash: text, id: orNull(text) });
    fc.assert(fc.property(head, fc.array(record, { maxLength: 2 }), (h, records) => {
      const expected = `ec4-head\n${JSON.stringify([h.chain, h.pseudonym, h.erased, h.seq, h.hash, h.id])}\n${recordsJson(records)}`;
      expect(headSealInput(h, records)).to.equal(expected);
    }), { numRuns: 2000 });
  });

  it('prints a value outside the types (a custom tracker may hand one over) as no JSON value, without throwing', () => {
    const primitive = (v: unknown): boolean => v === null || v === undefined || ['string', 'number', 'boolean'].includes(typeof v);
    const odd = fc.oneof(
      fc.anything(),
      fc.bigInt(),
      fc.date(),
      fc.constantFrom(undefined, Number.NaN, -0, Infinity, Buffer.from('ab'), new Number(0), new String('x'), new Boolean(false), Symbol('s'), () => 1, { toJSON: () => false }),
    );
    const members = ['chain', 'pseudonym', 'erased', 'seq', 'hash', 'id'] as const;
    fc.assert(fc.property(fc.constantFrom(...members), odd, (member, value) => {
      const h = { chain: 'c', pseudonym: 'p', erased: false, seq: 1, hash: 'h', id: '7', [member]: value };
      const printed = headSealInput(h, []).split('\n')[1] as string;
      if (primitive(value)) expect(printed).to.equal(JSON.stringify(members.map((m) => h[m] as unknown)));
      else expect(() => JSON.parse(printed) as unknown, typeof value).to.throw(SyntaxError);
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.constantFrom('decision', 'version', 'decidedAt', 'gpcOptIn', 'pendingToken'), odd, (member, value) => {
      const r = { requirement: 'a', decision: 'granted', version: 1, decidedAt: 5, expiresAt: null, gpcOptIn: false, pendingVersion: null, pendingAt: null, pendingExpiresAt: null, pendingToken: null, expiryRecorded: false, [member]: value } as unknown as CurrentRecord;
      if (primitive(value)) expect(recordsJson([r])).to.equal(JSON.stringify([values(r)]));
      else expect(() => JSON.parse(recordsJson([r])) as unknown).to.throw(SyntaxError);
    }), { numRuns: 2000 });
  });

  it('fails the seal of a record whose sealed false comes back boxed, as an object, or as a bigint', () => {
    const record: CurrentRecord = { requirement: 'ads', decision: 'granted', version: 1, decidedAt: 5, expiresAt: null, gpcOptIn: false, pendingVersion: null, pendingAt: null, pendingExpiresAt: null, pendingToken: null, expiryRecorded: false };
    const head = { chain: 'c0', pseudonym: 'ab', erased: false, seq: 1, hash: 'f'.repeat(64), id: '7' };
    const snapshot: SubjectSnapshot = { chain: 'c0', pseudonym: 'ab', seq: 1, hash: 'f'.repeat(64), headId: '7', mac: headSeal(KEY, head, [record]), records: [record] };
    expect(snapshotSealed(KEY, snapshot)).to.equal(true);
    const odd: Array<[string, unknown]> = [['boxed', new Boolean(false)], ['toJSON', { toJSON: () => false }], ['valueOf', { valueOf: () => false }], ['bigint', 0n], ['array', [false]]];
    for (const [name, value] of odd) {
      for (const member of ['gpcOptIn', 'expiryRecorded', 'version', 'expiresAt'] as const) {
        const changed: SubjectSnapshot = { ...snapshot, records: [{ ...record, [member]: value }] };
        expect(snapshotSealed(KEY, changed), `${member}: ${name}`).to.equal(false);
      }
    }
  });

  it('changes with every member of the head, the link and every record member', () => {
    const records: CurrentRecord[] = [{ requirement: 'a', decision: 'granted', version: 1, decidedAt: 5, expiresAt: 9, gpcOptIn: false, pendingVersion: null, pendingAt: null, pendingExpiresAt: null, pendingToken: null, expiryRecorded: false }];
    const snapshot: SubjectSnapshot = { chain: 'c0', pseudonym: 'ab', seq: 1, hash: 'f'.repeat(64), headId: '7', mac: '', records };
    snapshot.mac = headSeal(KEY, { chain: 'c0', pseudonym: 'ab', erased: false, seq: 1, hash: 'f'.repeat(64), id: '7' }, records);
    expect(snapshot.mac).to.match(/^[0-9a-f]{32}$/);
    expect(snapshotSealed(KEY, snapshot)).to.equal(true);
    expect(snapshotSealed(Buffer.alloc(32, 6), snapshot)).to.equal(false);
    for (const changed of [{ chain: 'c1' }, { pseudonym: 'ac' }, { seq: 2 }, { hash: 'e'.repeat(64) }, { headId: '8' }, { records: [] }]) {
      expect(snapshotSealed(KEY, { ...snapshot, ...changed }), JSON.stringify(changed)).to.equal(false);
    }
    for (const [member, value] of Object.entries({ decision: 'denied', version: 2, decidedAt: 6, expiresAt: null, gpcOptIn: true, pendingVersion: 1, pendingAt: 1, pendingExpiresAt: 1, pendingToken: 'ff', expiryRecorded: true, requirement: 'b' })) {
      expect(snapshotSealed(KEY, { ...snapshot, records: [{ ...records[0]!, [member]: value }] }), member).to.equal(false);
    }
    expect(snapshotSealed(KEY, { ...snapshot, chain: 'x', seq: 0, hash: GENESIS, headId: null, mac: '', records: [] })).to.equal(true, 'a new, empty chain');
    expect(snapshotSealed(KEY, { ...snapshot, seq: 0, hash: GENESIS, headId: null, mac: '' })).to.equal(false, 'records under an unsealed head');
  });

  it('seals every member of a stored requirement version', () => {
    const version = { ...storedVersion('news', 2), mac: '' };
    version.mac = versionSeal(KEY, version);
    expect(versionSealed(KEY, version)).to.equal(true);
    for (const [member, value] of Object.entries({ id: 'ads', version: 3, title: 'T', description: 'D', url: '/x', lawfulBasis: 'contract', textHash: 'aa', createdAt: 1 })) {
      expect(versionSealed(KEY, { ...version, [member]: value }), member).to.equal(false);
    }
    expect(versionSealed(KEY, { ...version, mac: '' })).to.equal(false);
  });
});
