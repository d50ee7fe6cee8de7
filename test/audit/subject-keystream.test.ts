import { expect } from 'chai';
import { hmacHex } from '../../lib/audit/keys';
import { seal } from '../../lib/audit/aead';
import { decryptEarlierSubjects, decryptSubjects, openSubjects, sealSubjects } from '../../lib/audit/subject-keystream';
import { openEarlierSubject, sealSubject } from '../../lib/audit/subject-seal';
import { openSubject } from '../helpers/open-subject';

const KEY = Buffer.alloc(32, 5);
const PSEUDONYM_KEY = Buffer.alloc(32, 7);
const pseudonymOf = (id: string): string => hmacHex(PSEUDONYM_KEY, id);

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

  it('open a value exactly when what it decrypts to has the pseudonym it is read with (as decryptSubjects, then pseudonymOf)', () => {
    const ids = ['ann@example.com', 'x', 'é', '日本', '😀'.repeat(5), 'c'.repeat(300), 'u\ufffd', 'bob'];
    const pseudonyms = ids.map(pseudonymOf);
    const sealed = ids.map((id, i) => sealSubject(KEY, id, pseudonyms[i] as string));
    expect(openSubjects(KEY, PSEUDONYM_KEY, sealed, pseudonyms)).to.deep.equal(ids);
    const reference = (values: string[], names: string[]): Array<string | null> =>
      decryptSubjects(KEY, values, names).map((id, i) => (id !== null && pseudonymOf(id) === names[i] ? id : null));
    // Moved to another subject's row, altered, cut short, not hex, or read with a pseudonym changed, in another case, or halved.
    const flipped = Buffer.from(sealed[0] as string, 'hex');
    flipped[0] = (flipped[0] as number) ^ 1;
    const values = [sealed[1] as string, flipped.toString('hex'), (sealed[0] as string).slice(0, -2), `${(sealed[0] as string).slice(0, -2)}zz`, sealed[0] as string, sealed[2] as string, sealed[7] as string, (sealed[7] as string).toUpperCase(), '', sealed[3] as string];
    const names = [pseudonyms[0], pseudonyms[0], pseudonyms[0], pseudonyms[0], `${(pseudonyms[0] as string).slice(0, 63)}0`, pseudonyms[3], (pseudonyms[7] as string).toUpperCase(), pseudonyms[7], pseudonyms[0], (pseudonyms[3] as string).slice(0, 32)] as string[];
    const opened = openSubjects(KEY, PSEUDONYM_KEY, values, names);
    expect(opened).to.deep.equal(reference(values, names));
    expect(opened).to.deep.equal([null, null, null, null, null, null, null, 'bob', null, null]);
    expect(openSubjects(KEY, PSEUDONYM_KEY, [], [])).to.deep.equal([]);
  });
});
