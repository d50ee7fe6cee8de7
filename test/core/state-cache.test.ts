import { expect } from 'chai';
import { StateCache, type CacheLink } from '../../lib/core/state-cache';
import { emptyRecord, type CurrentRecord } from '../../lib/tracker/records';

const records = (id: string) => [emptyRecord(id)];

describe('StateCache', () => {
  it('serves an entry until ttlMs has passed since it was loaded', () => {
    const cache = new StateCache(10, 100);
    cache.set('k', records('a'), 1000, cache.beginRead('k'));
    expect(cache.get('k', 1099)).to.deep.equal(records('a'));
    expect(cache.get('k', 1100)).to.equal(undefined);
    expect(cache.get('k', 1000), 'an expired entry is dropped').to.equal(undefined);
  });

  it('drops an entry when the clock goes backwards', () => {
    const cache = new StateCache(10, 100);
    cache.set('k', records('a'), 1000, cache.beginRead('k'));
    expect(cache.get('k', 999)).to.equal(undefined);
  });

  it('keeps at most max entries, evicting one not served since it was stored (second chance)', () => {
    const cache = new StateCache(2, 1000);
    cache.set('a', records('a'), 0, cache.beginRead('a'));
    cache.set('b', records('b'), 0, cache.beginRead('b'));
    cache.get('a', 1);
    cache.set('c', records('c'), 0, cache.beginRead('c'));
    expect(cache.get('b', 1)).to.equal(undefined);
    expect(cache.get('a', 1)).to.deep.equal(records('a'));
    expect(cache.get('c', 1)).to.deep.equal(records('c'));
  });

  it('gives every served entry one second chance, then evicts the oldest', () => {
    const cache = new StateCache(3, 1000);
    for (const key of ['a', 'b', 'c']) cache.set(key, records(key), 0, cache.beginRead(key));
    cache.get('a', 1);
    cache.get('c', 1);
    cache.set('d', records('d'), 0, cache.beginRead('d'));
    expect(cache.get('b', 1), 'the one entry nobody served').to.equal(undefined);
    // a, c and d were all served since: the pass clears their marks and drops the oldest, a.
    cache.get('d', 1);
    cache.set('e', records('e'), 0, cache.beginRead('e'));
    expect(cache.get('a', 1)).to.equal(undefined);
    expect(cache.get('c', 1)).to.deep.equal(records('c'));
    expect(cache.get('d', 1)).to.deep.equal(records('d'));
    expect(cache.get('e', 1)).to.deep.equal(records('e'));
  });

  const link = (key: string): CacheLink => ({ key, entry: null });

  it('answers allowsVia() from the windows of a fresh entry, undefined without one', () => {
    const windowsOf = (stored: CurrentRecord[]) => (stored[0]?.requirement === 'open' ? [-Infinity, Infinity, 0, 0] : [0, 0, 5, 50]);
    const refreshed: string[] = [];
    const cache = new StateCache(10, 100, (key) => refreshed.push(key), windowsOf);
    const k = link('k');
    const j = link('j');
    expect(cache.allowsVia(k, 10, [0])).to.equal(undefined);
    cache.set('k', records('open'), 0, cache.beginRead('k'));
    expect(cache.allowsVia(k, 10, [0])).to.equal(true);
    expect(cache.allowsVia(k, 10, [0, 1])).to.equal(false);
    cache.set('j', records('other'), 0, cache.beginRead('j'));
    expect([4, 5, 49, 50].map((t) => cache.allowsVia(j, t, [1]))).to.deep.equal([false, true, true, false]);
    expect(cache.allowsVia(j, 80, [1]), 'past the window, late in the lifetime').to.equal(false);
    expect(cache.allowsVia(k, 100, [0]), 'past ttlMs').to.equal(undefined);
    expect(cache.get('k', 1), 'dropped at its ttl').to.equal(undefined);
    expect(refreshed, 'a hit late in its lifetime starts a refresh, as get() does').to.deep.equal(['j']);
  });

  it('never serves an entry through a link once the entry has left the cache', () => {
    const open = () => [-Infinity, Infinity];
    const cache = new StateCache(2, 1000, undefined, open);
    const a = link('a');
    const fill = (key: string) => { cache.set(key, records(key), 0, cache.beginRead(key)); };
    fill('a');
    expect(cache.allowsVia(a, 1, [0])).to.equal(true);
    const first = a.entry;
    cache.invalidate('a');
    expect(cache.allowsVia(a, 1, [0]), 'invalidated').to.equal(undefined);
    fill('a');
    expect(cache.allowsVia(a, 1, [0])).to.equal(true);
    expect(a.entry, 'the link follows the new entry').to.not.equal(first);
    // Replaced, as a background refresh does (served again below, under eviction).
    cache.set('a', records('a'), 5, cache.beginRead('a'));
    // A replaced entry that a link still points to is marked and holds nothing.
    const refusing = new StateCache(2, 1000, undefined, () => [0, 0]);
    const b = link('b');
    refusing.set('b', records('b'), 0, refusing.beginRead('b'));
    expect(refusing.allowsVia(b, 1, [0])).to.equal(false);
    refusing.set('b', records('b'), 1, refusing.beginRead('b'));
    expect(b.entry?.dropped, 'the replaced entry is marked').to.equal(true);
    expect(b.entry?.records, 'and holds no records any more').to.deep.equal([]);
    // Evicted and cleared.
    expect(cache.allowsVia(a, 6, [0])).to.equal(true);
    cache.set('x', records('x'), 0, cache.beginRead('x'));
    cache.set('y', records('y'), 0, cache.beginRead('y'));
    expect(cache.allowsVia(link('x'), 1, [0]), 'x was never served: evicted first').to.equal(undefined);
    const y = link('y');
    expect(cache.allowsVia(y, 1, [0])).to.equal(true);
    cache.clear();
    expect(cache.allowsVia(y, 1, [0]), 'cleared').to.equal(undefined);
  });

  it('computes an entry\'s windows again once a version registered ahead has started, not before', () => {
    let computed = 0;
    let until = 500;
    // Allowed until the next version starts at `until`; that version refuses.
    const windowsOf = () => { computed += 1; return computed === 1 ? [-Infinity, 500] : [0, 0]; };
    const cache = new StateCache(10, 10_000, undefined, windowsOf, () => until);
    const k = link('k');
    cache.set('k', records('k'), 0, cache.beginRead('k'));
    until = Infinity;
    expect([cache.allowsVia(k, 100, [0]), cache.allowsVia(k, 499, [0])]).to.deep.equal([true, true]);
    expect(computed, 'once, when stored').to.equal(1);
    expect(cache.allowsVia(k, 500, [0]), 'the next version decides').to.equal(false);
    expect(cache.allowsVia(k, 600, [0])).to.equal(false);
    expect(computed, 'once more, at the start, then kept until the next start').to.equal(2);
  });

  it('keeps entries past ttlMs without refreshing them while the change feed confirms within ttlMs', () => {
    const refreshed: string[] = [];
    const cache = new StateCache(10, 100, (key) => refreshed.push(key), () => [-Infinity, Infinity]);
    cache.set('k', records('a'), 1000, cache.beginRead('k'));
    cache.synced(1050);
    expect(cache.get('k', 1149), 'confirmed 99 ms ago, read 149 ms ago').to.deep.equal(records('a'));
    cache.synced(1140);
    expect(cache.allowsVia(link('k'), 1239, [0])).to.equal(true);
    expect(refreshed, 'no background re-read while the feed confirms').to.deep.equal([]);
    expect(cache.get('k', 1240), 'the last confirmation is ttlMs old: the entry is past its own lifetime too').to.equal(undefined);
  });

  it('falls back to the entries\' own lifetime once the feed breaks, and never serves an invalidated entry', () => {
    const refreshed: string[] = [];
    const cache = new StateCache(10, 100, (key) => refreshed.push(key));
    cache.set('old', records('old'), 1000, cache.beginRead('old'));
    cache.set('young', records('young'), 1160, cache.beginRead('young'));
    cache.synced(1190);
    expect(cache.get('old', 1200)).to.deep.equal(records('old'));
    cache.invalidate('young');
    expect(cache.get('young', 1200), 'a reported change drops its entry').to.equal(undefined);
    cache.set('young', records('young'), 1160, cache.beginRead('young'));
    cache.unsynced();
    expect(cache.get('old', 1200), 'read 200 ms ago, no confirmation to vouch for it').to.equal(undefined);
    expect(cache.get('young', 1240), 'read 80 ms ago: served, and re-read in the background').to.deep.equal(records('young'));
    expect(refreshed).to.deep.equal(['young']);
    expect(cache.get('young', 1260)).to.equal(undefined);
  });

  it('refuses a read that started before an invalidation (generation fence)', () => {
    const cache = new StateCache(10, 1000);
    const before = cache.beginRead('k');
    cache.invalidate('k');
    cache.set('k', records('stale'), 0, before);
    expect(cache.get('k', 1)).to.equal(undefined);
    cache.set('k', records('fresh'), 0, cache.beginRead('k'));
    expect(cache.get('k', 1)).to.deep.equal(records('fresh'));
    cache.invalidate('k');
    expect(cache.get('k', 1)).to.equal(undefined);
  });

  it('fences a read in flight across clear(), and only the key it reads across invalidations', () => {
    const cache = new StateCache(1, 1000);
    const before = cache.beginRead('k');
    cache.clear();
    cache.set('k', records('stale'), 0, before);
    expect(cache.get('k', 1)).to.equal(undefined);
    cache.readDone('k');
    const pending = cache.beginRead('x');
    for (const key of ['p', 'q', 'r']) cache.invalidate(key);
    cache.set('x', records('x'), 0, pending);
    expect(cache.get('x', 1), 'other keys\' invalidations do not fence x').to.deep.equal(records('x'));
    cache.readDone('x');
  });

  it('keeps every entry it holds however many other keys are invalidated', () => {
    const cache = new StateCache(3, 1000);
    cache.set('a', records('a'), 0, cache.beginRead('a'));
    cache.readDone('a');
    for (let i = 0; i < 100; i += 1) {
      const key = `w${String(i)}`;
      const ticket = cache.beginRead(key);
      cache.invalidate(key);
      cache.set(key, records('stale'), 0, ticket);
      cache.readDone(key);
      expect(cache.get(key, 1), 'a read that began before its invalidation stores nothing').to.equal(undefined);
    }
    expect(cache.get('a', 1)).to.deep.equal(records('a'));
  });
});
