import { expect } from 'chai';
import { seal } from '../../lib/audit/aead';
import { hmacHex } from '../../lib/audit/keys';
import { openEarlierSubject, sealSubject } from '../../lib/audit/subject-seal';
import { openSubject } from '../helpers/open-subject';

const KEY = Buffer.alloc(32, 5);
const PSEUDONYM_KEY = Buffer.alloc(32, 7);
const pseudonymOf = (id: string): string => hmacHex(PSEUDONYM_KEY, id);
const CHAIN = '0000018f00aa0123456789abcdef0123';

describe('sealed subject ids', () => {
  it('are exactly as long as the id, and open only for their own pseudonym and key', () => {
    const ann = pseudonymOf('ann@example.com');
    const sealed = sealSubject(KEY, 'ann@example.com', ann);
    expect(Buffer.from(sealed, 'hex').length).to.equal('ann@example.com'.length);
    expect(sealSubject(KEY, 'ann@example.com', ann), 'deterministic').to.equal(sealed);
    expect(sealSubject(KEY, 'ann@example.com', pseudonymOf('bob')), 'another pseudonym, another value').to.not.equal(sealed);
    expect(openSubject(KEY, sealed, ann, pseudonymOf)).to.equal('ann@example.com');
    // Copied onto bob's row: it decrypts under bob's counter to something whose pseudonym is not bob's.
    expect(openSubject(KEY, sealed, pseudonymOf('bob'), pseudonymOf)).to.equal(null);
    expect(openSubject(Buffer.alloc(32, 6), sealed, ann, pseudonymOf)).to.equal(null);
    const flipped = Buffer.from(sealed, 'hex');
    flipped[3] = (flipped[3] as number) ^ 1;
    expect(openSubject(KEY, flipped.toString('hex'), ann, pseudonymOf)).to.equal(null);
    for (const bad of ['', '0', 'zz', `${sealed}0`]) expect(openSubject(KEY, bad, ann, pseudonymOf)).to.equal(null);
    expect(openSubject(KEY, sealed, 'not hex at all, not at all', pseudonymOf)).to.equal(null);
    expect(() => sealSubject(KEY, 'ann', 'abc')).to.throw(/pseudonym/);
  });

  it('from an earlier release (AES-256-GCM bound to the chain) still open for their chain only', () => {
    const earlier = seal(KEY, 'ann@example.com', Buffer.from(CHAIN, 'utf8')).toString('hex');
    expect(openEarlierSubject(KEY, earlier, CHAIN)).to.equal('ann@example.com');
    expect(openEarlierSubject(KEY, earlier, `${CHAIN.slice(0, -1)}4`)).to.equal(null);
    expect(openEarlierSubject(Buffer.alloc(32, 6), earlier, CHAIN)).to.equal(null);
    expect(openEarlierSubject(KEY, '00ff', CHAIN)).to.equal(null);
  });
});
