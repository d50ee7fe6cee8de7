import { expect } from 'chai';
import { hmacHex } from '../../lib/audit/keys';
import { seal } from '../../lib/audit/aead';
import { decryptEarlierSubjects, decryptSubjects, sealSubjects } from '../../lib/audit/subject-keystream';
import { openEarlierSubject, sealSubject } from '../../lib/audit/subject-seal';
import { openSubject } from '../helpers/open-subject';

const KEY = Buffer.alloc(32, 5);
const pseudonymOf = (id: string): string => hmacHex(Buffer.alloc(32, 7), id);

describe('sealed subject ids decrypted a page at a time', () => {
  it('read what openSubject reads, for ids of every length across block boundaries', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `${String(i)}:${(i % 3 === 0 ? 'é' : i % 3 === 1 ? 'u' : '日').repeat(1 + (i % 70))}`);
    ids.push('ann@example.com', 'x', 'a'.repeat(16), 'b'.repeat(32), '😀'.repeat(9), 'c'.repeat(1024));
    const pseudonyms = ids.map(pseudonymOf);
    const sealed = ids.map((id, i) => sealSubject(KEY, id, pseudonyms[i] as string));
    const decrypted = decryptSubjects(KEY, sealed, pseudonyms);
    expect(decrypted).to.deep.equal(ids);
    expect(decrypted).to.deep.equal(sealed.map((s, i) => openSubject(KEY, s, pseudonyms[i] as string, pseudonymOf)));
    // Sealed a page at a time: the same values as one at a time.
    expect(sealSubjects(KEY, ids, pseudonyms)).to.deep.equal(sealed);
    expect(sealSubjects(KEY, [], [])).to.deep.equal([]);
    expect(() => sealSubjects(KEY, ['ann', 'bob'], [pseudonymOf('ann'), 'abc'])).to.throw(/pseudonym/);
  });

  it('keeps null for an empty value, one of odd length or not hex, or a pseudonym with no counter, and decrypts its neighbours', () => {
    const cy = pseudonymOf('cy');
    const good = sealSubject(KEY, 'cy', cy);
    const notHex = `${good.slice(0, -2)}zz`;
    expect(decryptSubjects(KEY, ['', good, `${good}0`, notHex, good, good], [cy, cy, cy, cy, null, cy])).to.deep.equal([null, 'cy', null, null, null, 'cy']);
    expect(decryptSubjects(KEY, [good], ['abc'])).to.deep.equal([null]);
    expect(decryptSubjects(KEY, [], [])).to.deep.equal([]);
  });

  it('authenticates nothing: another key or an altered byte decrypts to something else', () => {
    const ann = pseudonymOf('ann@example.com');
    const sealed = sealSubject(KEY, 'ann@example.com', ann);
    expect(decryptSubjects(Buffer.alloc(32, 6), [sealed], [ann])[0]).to.not.equal('ann@example.com');
    const flipped = Buffer.from(sealed, 'hex');
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(decryptSubjects(KEY, [flipped.toString('hex')], [ann])[0]).to.equal('`nn@example.com');
  });

  it('read what an earlier release sealed (AES-256-GCM) as openEarlierSubject does, and keep null for values too short or not hex', () => {
    const chainOf = (i: number): string => i.toString(16).padStart(16, '0');
    const ids = Array.from({ length: 200 }, (_, i) => `${String(i)}:${'日é'.repeat(i % 40)}`);
    const sealed = ids.map((id, i) => seal(KEY, id, Buffer.from(chainOf(i), 'utf8')).toString('hex'));
    expect(decryptEarlierSubjects(KEY, sealed)).to.deep.equal(ids);
    expect(decryptEarlierSubjects(KEY, sealed)).to.deep.equal(sealed.map((v, i) => openEarlierSubject(KEY, v, chainOf(i))));
    const good = sealed[1] as string;
    expect(decryptEarlierSubjects(KEY, ['00ff', good, `${good}0`, `${good.slice(0, -2)}zz`, good.slice(0, 56), ''])).to.deep.equal([null, ids[1], null, null, null, null]);
  });
});
