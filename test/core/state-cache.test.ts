import { expect } from 'chai';
import { StateCache } from '../../lib/core/state-cache';
import { emptyRecord } from '../../lib/tracker/records';

const records = (id: string) => [emptyRecord(id)];

describe('StateCache', () => {
  it('serves an entry until ttlMs has passed since it was loaded', () => {
    const cache = new StateCache(10, 100);
    cache.set('k', records('a'), 1000, cache.generation('k'));
    expect(cache.get('k', 1099)).to.deep.equal(records('a'));
    expect(cache.get('k', 1100)).to.equal(undefined);
    expect(cache.get('k', 1000), 'an expired entry is dropped').to.equal(undefined);
  });

  it('drops an entry when the clock goes backwards', () => {
    const cache = new StateCache(10, 100);
    cache.set('k', records('a'), 1000, cache.generation('k'));
    expect(cache.get('k', 999)).to.equal(undefined);
  });

  it('keeps at most max entries, evicting the least recently used', () => {
    const cache = new StateCache(2, 1000);
    cache.set('a', records('a'), 0, cache.generation('a'));
    cache.set('b', records('b'), 0, cache.generation('b'));
    cache.get('a', 1);
    cache.set('c', records('c'), 0, cache.generation('c'));
    expect(cache.get('b', 1)).to.equal(undefined);
    expect(cache.get('a', 1)).to.deep.equal(records('a'));
    expect(cache.get('c', 1)).to.deep.equal(records('c'));
  });

  it('refuses a read that started before an invalidation (generation fence)', () => {
    const cache = new StateCache(10, 1000);
    const before = cache.generation('k');
    cache.invalidate('k');
    cache.set('k', records('stale'), 0, before);
    expect(cache.get('k', 1)).to.equal(undefined);
    cache.set('k', records('fresh'), 0, cache.generation('k'));
    expect(cache.get('k', 1)).to.deep.equal(records('fresh'));
    cache.invalidate('k');
    expect(cache.get('k', 1)).to.equal(undefined);
  });

  it('fences every key after clear(), also when the generation map overflows', () => {
    const cache = new StateCache(1, 1000);
    const before = cache.generation('k');
    cache.clear();
    cache.set('k', records('stale'), 0, before);
    expect(cache.get('k', 1)).to.equal(undefined);
    const pending = cache.generation('x');
    for (const key of ['p', 'q', 'r']) cache.invalidate(key);
    cache.set('x', records('stale'), 0, pending);
    expect(cache.get('x', 1)).to.equal(undefined);
  });
});
