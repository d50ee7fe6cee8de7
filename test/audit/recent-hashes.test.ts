import { expect } from 'chai';
import fc from 'fast-check';
import { InTurn, RecentHashes } from '../../lib/audit/recent-hashes';

/** What RecentHashes stands for: a map that drops its oldest entry before a set once it holds `limit`. */
class Reference {
  readonly map = new Map<string, string>();
  constructor(private readonly limit: number) {}
  set(id: string, hash: string): void {
    if (this.map.size >= this.limit) this.map.delete(this.map.keys().next().value as string);
    this.map.set(id, hash);
  }
}

describe("the recent hashes and vouched items of verify()'s chain check", () => {
  it('RecentHashes answers as the map it stands for, before and past its limit, repeated ids included', () => {
    const op = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 12 }).map(String), hash: fc.string({ maxLength: 4 }) }),
      fc.record({ get: fc.integer({ min: 0, max: 12 }).map(String) }),
      fc.constant({ clear: true }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (limit, ops) => {
      const recent = new RecentHashes(limit);
      let reference = new Reference(limit);
      for (const o of ops) {
        if ('set' in o) {
          recent.set(o.set, o.hash);
          reference.set(o.set, o.hash);
        } else if ('get' in o) {
          expect(recent.get(o.get)).to.equal(reference.map.get(o.get));
        } else {
          recent.clear();
          reference = new Reference(limit);
        }
      }
      for (let id = 0; id <= 12; id += 1) expect(recent.get(String(id))).to.equal(reference.map.get(String(id)));
    }), { numRuns: 1000 });
  });

  it('InTurn gives each value to its item looked up in turn, and none out of turn', () => {
    const [a, b, c, d] = [{}, {}, {}, {}];
    const turn = new InTurn<object, string>();
    turn.add(a, 'a');
    turn.add(c, 'c');
    expect(turn.take(b)).to.equal(undefined);
    expect(turn.take(c)).to.equal(undefined);
    expect(turn.take(a)).to.equal('a');
    expect(turn.take(a)).to.equal(undefined);
    expect(turn.take(c)).to.equal('c');
    turn.add(d, 'd');
    expect(turn.take(d)).to.equal('d');
    expect(turn.take(d)).to.equal(undefined);
  });
});
