import { expect } from 'chai';
import { openSubject, sealSubject } from '../../lib/audit/subject-seal';

const KEY = Buffer.alloc(32, 5);
const CHAIN = '0000018f00aa0123456789abcdef0123';

describe('sealed subject ids', () => {
  it('open with their key and chain only, and never repeat a nonce', () => {
    const sealed = Array.from({ length: 2000 }, () => sealSubject(KEY, 'ann@example.com', CHAIN));
    expect(new Set(sealed.map((s) => Buffer.from(s, 'hex').subarray(0, 12).toString('hex'))).size).to.equal(2000);
    for (const s of sealed.slice(0, 5)) expect(openSubject(KEY, s, CHAIN)).to.equal('ann@example.com');
    const one = sealed[0] as string;
    expect(openSubject(KEY, one, `${CHAIN.slice(0, -1)}4`)).to.equal(null);
    expect(openSubject(Buffer.alloc(32, 6), one, CHAIN)).to.equal(null);
    const flipped = Buffer.from(one, 'hex');
    flipped[14] = (flipped[14] as number) ^ 1;
    expect(openSubject(KEY, flipped.toString('hex'), CHAIN)).to.equal(null);
    expect(openSubject(KEY, '00ff', CHAIN)).to.equal(null);
  });
});
