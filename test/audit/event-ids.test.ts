import { expect } from 'chai';
import fc from 'fast-check';
import { eventIdCodec } from '../../lib/audit/event-ids';
import { deriveKeys } from '../../lib/audit/keys';

const keys = deriveKeys(Buffer.from('event-id-test-secret-0123456789abcdef', 'utf8'));
const codec = eventIdCodec(keys.eventId);
const MAX = 2n ** 63n - 1n;

describe('public event ids (pure)', () => {
  it('are keyed by a key of their own, unlike every other key derived from the secret', () => {
    const others = Object.entries(keys).filter(([name]) => name !== 'eventId').map(([, key]) => key.toString('hex'));
    expect(others).to.have.length.greaterThan(0);
    expect(others).not.to.include(keys.eventId.toString('hex'));
  });

  it('decode what they encode, for every stored id up to 2^63 - 1', () => {
    for (const id of ['1', '2', '9007199254740993', MAX.toString()]) expect(codec.decode(codec.encode(id))).to.equal(id);
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: MAX }), (n) => codec.decode(codec.encode(n.toString())) === n.toString()));
  });

  it('look alike for no two ids, and start with a letter (no spreadsheet formula)', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => codec.encode(String(i + 1)));
    expect(new Set(ids).size).to.equal(ids.length);
    for (const id of ids) expect(id).to.match(/^e[A-Za-z0-9_-]{22}$/);
  });

  it('refuse what they did not make: other keys, altered or respelled ids, anything else', () => {
    const id = codec.encode('42');
    expect(eventIdCodec(deriveKeys(Buffer.alloc(32, 7)).eventId).decode(id)).to.equal(null);
    for (let i = 1; i < id.length; i += 1) {
      const altered = `${id.slice(0, i)}${id[i] === 'A' ? 'B' : 'A'}${id.slice(i + 1)}`;
      expect(codec.decode(altered), altered).to.equal(null);
    }
    for (const junk of ['', '42', 'e', `${id}A`, id.slice(0, -1), `x${id.slice(1)}`, 'e'.repeat(23), undefined, 42, null]) {
      expect(codec.decode(junk as string), String(junk)).to.equal(null);
    }
    fc.assert(fc.property(fc.string(), (junk) => junk === id || codec.decode(junk) === null || codec.encode(codec.decode(junk) as string) === junk));
  });

  it('encode only stored ids: a tracker that hands out anything else breaks its contract', () => {
    for (const bad of ['0', '-1', '01', '1.5', 'abc', '', (MAX + 1n).toString(), ' 1']) {
      expect(() => codec.encode(bad), bad).to.throw(/not a stored event id/);
    }
  });
});
