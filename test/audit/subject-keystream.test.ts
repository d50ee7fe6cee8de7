import { expect } from 'chai';
import { decryptSubjects } from '../../lib/audit/subject-keystream';
import { openSubject, sealSubject } from '../../lib/audit/subject-seal';

const KEY = Buffer.alloc(32, 5);
const chainOf = (i: number): string => i.toString(16).padStart(32, '0');

describe('sealed subject ids decrypted a page at a time', () => {
  it('read what openSubject reads, for ids of every length across block boundaries', () => {
    const ids = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 'é' : i % 3 === 1 ? 'u' : '日').repeat(1 + (i % 70)));
    ids.push('ann@example.com', 'x', 'a'.repeat(16), 'b'.repeat(32), '😀'.repeat(9));
    const sealed = ids.map((id, i) => sealSubject(KEY, id, chainOf(i)));
    const decrypted = decryptSubjects(KEY, sealed);
    expect(decrypted).to.deep.equal(ids);
    expect(decrypted).to.deep.equal(sealed.map((s, i) => openSubject(KEY, s, chainOf(i))));
  });

  it('keeps null for a value too short, of odd length or not hex, and decrypts its neighbours', () => {
    const good = sealSubject(KEY, 'cy', chainOf(1));
    const notHex = `${good.slice(0, -2)}zz`;
    expect(decryptSubjects(KEY, ['00ff', good, `${good}0`, notHex, good.slice(0, 56), good])).to.deep.equal([null, 'cy', null, null, null, 'cy']);
    expect(decryptSubjects(KEY, [])).to.deep.equal([]);
  });

  it('authenticates nothing: another key or an altered byte decrypts to something else', () => {
    const sealed = sealSubject(KEY, 'ann@example.com', chainOf(2));
    expect(decryptSubjects(Buffer.alloc(32, 6), [sealed])[0]).to.not.equal('ann@example.com');
    const flipped = Buffer.from(sealed, 'hex');
    flipped[12] = (flipped[12] as number) ^ 1;
    expect(decryptSubjects(KEY, [flipped.toString('hex')])[0]).to.equal('`nn@example.com');
  });
});
