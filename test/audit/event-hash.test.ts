import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { eventHash, GENESIS } from '../../lib/audit/chain';
import type { ChainedFields } from '../../lib/audit/fields';
import { canonicalJson } from '../../lib/audit/canonical-json';

const KEY = Buffer.alloc(32, 9);
// The format every stored chain is hashed with: HMAC over the RFC 8785 text of the fields.
const reference = (previous: string, fields: object) =>
  createHmac('sha256', KEY).update(`ec3\n${previous}\n${canonicalJson(fields)}`, 'utf8').digest('hex');

const FIELDS: ChainedFields = {
  chain: '0123456789abcdef0123456789abcdef',
  seq: 7,
  id: '9007199254740993',
  prevId: null,
  requirement: 'news.letter-2',
  version: 3,
  action: 'grant',
  state: 'granted',
  source: 'import',
  at: 1_700_000_000_123,
  personalDigest: 'f'.repeat(64),
};

describe('eventHash', () => {
  it('hashes exactly the canonical JSON of the chained fields', () => {
    expect(eventHash(KEY, GENESIS, FIELDS)).to.equal(reference(GENESIS, FIELDS));
    const next = { ...FIELDS, prevId: '41', source: 'Zoë "admin" \\ \u2028 😀', seq: 8 };
    expect(eventHash(KEY, 'a'.repeat(64), next)).to.equal(reference('a'.repeat(64), next));
  });

  it('covers only the chained members, and keeps the general serialisation for odd values', () => {
    // A stored event carries more members (note, hash, ...): they are not part of its hash.
    const extra = { ...FIELDS, note: 'x', actor: 'an operator' } as ChainedFields;
    expect(eventHash(KEY, GENESIS, extra)).to.equal(reference(GENESIS, FIELDS));
    const missing = { ...FIELDS, prevId: undefined } as unknown as ChainedFields;
    expect(eventHash(KEY, GENESIS, missing)).to.equal(reference(GENESIS, missing));
    expect(() => eventHash(KEY, GENESIS, { ...FIELDS, at: Number.NaN })).to.throw(TypeError);
  });

  it('hashes an event with a context in format ec4: the chained fields, then the context as a JSON string', () => {
    const ec4 = (previous: string, fields: object, context: string) =>
      createHmac('sha256', KEY).update(`ec4\n${previous}\n${canonicalJson(fields)}\n${JSON.stringify(context)}`, 'utf8').digest('hex');
    const withContext = { ...FIELDS, context: 'banner "v2"\n/pricing' };
    expect(eventHash(KEY, GENESIS, withContext)).to.equal(ec4(GENESIS, FIELDS, withContext.context));
    // No context (null or absent) keeps format ec3: older events verify as they were sealed.
    expect(eventHash(KEY, GENESIS, { ...FIELDS, context: null })).to.equal(reference(GENESIS, FIELDS));
    expect(eventHash(KEY, GENESIS, { ...FIELDS, context: '' })).not.to.equal(reference(GENESIS, FIELDS));
  });
});
