import { expect } from 'chai';
import { FeedProbe, SILENT_BEATS } from '../../lib/core/feed-probe';

describe('FeedProbe (the change feed\'s delivery check)', () => {
  it('confirms the feed only when the latest probe comes back', () => {
    const probe = new FeedProbe('t');
    const first = probe.beat();
    const second = probe.beat();
    expect(probe.arrived(first.payload)).to.equal(false);
    expect(probe.arrived('other:2')).to.equal(false);
    expect(probe.arrived(second.payload)).to.equal(true);
  });

  it(`reports silence once after ${String(SILENT_BEATS)} unanswered beats, and again after a confirmation`, () => {
    const probe = new FeedProbe('t');
    const silent = () => Array.from({ length: 10 }, (_, i) => (i % 2 ? probe.beatWithoutProbe() : probe.beat().silent));
    expect(silent().filter(Boolean)).to.have.length(1);
    expect(silent().filter(Boolean)).to.have.length(0);
    const last = probe.beat();
    expect(probe.arrived(last.payload)).to.equal(true);
    const after = Array.from({ length: SILENT_BEATS + 1 }, () => probe.beat().silent);
    expect(after).to.deep.equal([...Array<boolean>(SILENT_BEATS).fill(false), true]);
  });
});
