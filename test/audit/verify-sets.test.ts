import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { IdSet } from '../../lib/audit/id-set';
import { KeyedSum } from '../../lib/audit/keyed-sum';
import { encodeLeaves } from '../../lib/audit/log-leaf';

describe('the sets verify() compares events and leaves with', () => {
  it('IdSet lists the ids the other set lacks, in order, large ids last', () => {
    const a = new IdSet();
    const b = new IdSet();
    for (const id of ['1', '31', '32', '33', '40000', '70000', '9007199254740993', '5']) a.add(id);
    for (const id of ['1', '32', '70000', '123']) b.add(id);
    expect([...a.missingFrom(b)]).to.deep.equal(['5', '31', '33', '40000', '9007199254740993']);
    expect([...b.missingFrom(a)]).to.deep.equal(['123']);
    expect([...a.missingFrom(a)]).to.deep.equal([]);
    const c = new IdSet();
    for (const n of [1, 31, 32, 33, 40000, 70000, 5]) expect(c.addNumber(n)).to.equal(true);
    expect(c.add('9007199254740993')).to.equal(true);
    expect([c.add('32'), c.addNumber(40000)]).to.deep.equal([false, false]);
    expect([...a.missingFrom(c)]).to.deep.equal([]);
    expect([...c.missingFrom(a)]).to.deep.equal([]);
  });

  it('KeyedSum adds an event as the leaf encodeLeaves writes for it, whatever its hash holds', () => {
    const key = randomBytes(32);
    const hex = randomBytes(32).toString('hex');
    const events = [
      { id: '7', hash: hex },
      { id: '281474976710656', hash: hex },
      { id: '12', hash: hex.toUpperCase() },
      { id: '13', hash: `${hex.slice(0, 63)}g` },
      { id: '14', hash: `${hex.slice(0, 62)}\u0130a` },
      { id: '15', hash: hex.slice(0, 40) },
    ];
    for (const event of events) {
      const direct = new KeyedSum(key);
      direct.addEvent(event);
      const viaLeaf = new KeyedSum(key);
      viaLeaf.add(encodeLeaves([event]));
      expect(direct.digest(), `${event.id} ${event.hash}`).to.equal(viaLeaf.digest());
    }
    const all = new KeyedSum(key);
    for (const event of events) all.addEvent(event);
    const leaves = new KeyedSum(key);
    const encoded = encodeLeaves(events);
    for (let i = 0; i < events.length; i += 1) leaves.addAt(encoded, i * 40);
    expect(all.digest()).to.equal(leaves.digest());
  });
});
