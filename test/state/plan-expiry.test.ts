import { expect } from 'chai';
import { eventHash, GENESIS } from '../../lib/audit/chain';
import { normalizeRequirement } from '../../lib/registry/validate';
import { planBatch, type BatchContext } from '../../lib/state/plan';
import { planExpiry } from '../../lib/state/plan-expiry';
import { headSeal } from '../../lib/audit/head-seal';
import type { SubjectSnapshot } from '../../lib/tracker/records';

const KEY = Buffer.alloc(32, 9);
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 0, 1);
const a = normalizeRequirement({ id: 'a', title: 'A', description: 'A', expiresAfterDays: 1 });
const b = normalizeRequirement({ id: 'b', title: 'B', description: 'B' });
const ctx: BatchContext = { now: NOW, source: 'app', actor: null, note: null, data: null, ip: null, userAgent: null, personalSalt: null, gpc: false };
const lookup = (id: string) => [a, b].find((r) => r.id === id);

/** A subject that granted a (expires after a day) and b (never expires), as events 11 and 12. */
function granted(): SubjectSnapshot {
  const empty: SubjectSnapshot = { chain: 'e'.repeat(32), seq: 0, hash: GENESIS, headId: null, mac: '', pseudonym: 'p', records: [] };
  const { plan } = planBatch(empty, [{ requirement: a, decision: 'granted' }, { requirement: b, decision: 'granted' }], ctx, KEY);
  const sealed = plan.seal(['11', '12']);
  return { chain: empty.chain, pseudonym: 'p', seq: sealed.head.seq, hash: sealed.head.hash, headId: sealed.head.id, mac: sealed.head.mac, records: plan.records };
}

describe('planExpiry', () => {
  it('appends one chained expire event per lapsed grant and marks its record', () => {
    const before = granted();
    const { plan, changes } = planExpiry(before, ['a', 'b'], lookup, NOW + DAY, KEY);
    expect(changes).to.deep.equal([{ requirement: 'a', action: 'expire', previous: 'granted', state: 'expired', seq: 3, at: NOW + DAY }]);
    expect(plan.events[0]).to.include({ seq: 3, action: 'expire', source: 'sweep', state: 'expired', at: NOW + DAY, version: 1 });
    const sealed = plan.seal(['13']);
    const [event] = sealed.events;
    const { note: _n, data: _d, ip: _i, userAgent: _u, hash, prevHash, ...fields } = event!;
    expect([prevHash, fields.prevId]).to.deep.equal([before.hash, '12']);
    expect(hash).to.equal(eventHash(KEY, before.hash, fields));
    const head = { chain: before.chain, pseudonym: 'p', seq: 3, hash, id: '13', erased: false };
    const after = before.records.map((r) => (r.requirement === 'a' ? { ...r, expiryRecorded: true } : r));
    expect(sealed.head).to.deep.equal({ ...head, mac: headSeal(KEY, head, after) });
    expect(plan.records).to.deep.equal([{ ...before.records.find((r) => r.requirement === 'a')!, expiryRecorded: true }]);
  });

  it('plans nothing before the expiry, for a marked record, or for ids not asked about', () => {
    const before = granted();
    expect(planExpiry(before, ['a'], lookup, NOW + DAY - 1, KEY).plan.events).to.deep.equal([]);
    expect(planExpiry(before, ['b'], lookup, NOW + DAY, KEY).plan.events).to.deep.equal([]);
    const records = before.records.map((r) => ({ ...r, expiryRecorded: true }));
    const marked = { ...before, records, mac: headSeal(KEY, { ...before, id: before.headId, erased: false }, records) };
    const { plan } = planExpiry(marked, ['a'], lookup, NOW + DAY, KEY);
    expect(plan.events).to.deep.equal([]);
    expect(plan.seal([]).head.seq).to.equal(before.seq);
  });

  it('marks without an event a grant of an id no longer registered', () => {
    const { plan } = planExpiry(granted(), ['a'], () => undefined, NOW + DAY, KEY);
    expect(plan.events).to.deep.equal([]);
    expect(plan.records.map((r) => [r.requirement, r.expiryRecorded])).to.deep.equal([['a', true]]);
  });
});
