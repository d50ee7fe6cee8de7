import { expect } from 'chai';
import { WriteLimiter } from '../../lib/core/write-limiter';

describe('WriteLimiter (pure)', () => {
  it('allows `writes` per window and says how long the rest must wait', () => {
    const limiter = new WriteLimiter(2, 1_000);
    expect([limiter.take('a', 0), limiter.take('a', 10), limiter.take('a', 400)]).to.deep.equal([0, 0, 600]);
    expect(limiter.take('a', 999)).to.equal(1);
    expect(limiter.take('a', 1_000)).to.equal(0);
    expect(limiter.take('b', 1_000)).to.equal(0);
  });

  it('starts afresh when the clock goes back', () => {
    const limiter = new WriteLimiter(1, 1_000);
    expect(limiter.take('a', 5_000)).to.equal(0);
    expect(limiter.take('a', 5_500)).to.equal(500);
    expect(limiter.take('a', 4_000)).to.equal(0);
  });

  it('remembers at most maxKeys subjects, forgetting the oldest windows first', () => {
    const limiter = new WriteLimiter(1, 1_000, 3);
    for (const [key, at] of [['a', 0], ['b', 100], ['c', 1_500]] as const) expect(limiter.take(key, at)).to.equal(0);
    expect(limiter.take('d', 1_600)).to.equal(0);
    expect(limiter.size).to.equal(3);
    // 'a' (expired) went first; 'b' (expired) next; 'c' and 'd' are still counted.
    expect(limiter.take('e', 1_700)).to.equal(0);
    expect(limiter.size).to.equal(3);
    expect(limiter.take('c', 1_800)).to.be.greaterThan(0);
    expect(limiter.take('d', 1_800)).to.be.greaterThan(0);
    expect(limiter.take('e', 1_800)).to.be.greaterThan(0);
    for (let i = 0; i < 1_000; i += 1) limiter.take(`k${String(i)}`, 2_000);
    expect(limiter.size).to.equal(3);
  });
});
