import { expect } from 'chai';
import { problemPlace } from '../../lib/cli/verify';

describe('express-consent verify names where a problem is', () => {
  it('names an event as an event, and a problem without one by its place in words', () => {
    expect(problemPlace('kX3v_q9mP0aZ')).to.equal('event kX3v_q9mP0aZ');
    expect(problemPlace('00ff13a2c4d5e6f7:12')).to.equal('position 12 of chain 00ff13a2c4d5e6f7');
    for (const place of ['log', 'log:7', 'checkpoint:3', 'requirement:terms:2']) expect(problemPlace(place)).to.equal(place);
  });
});
