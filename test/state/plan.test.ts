import { expect } from 'chai';
import { ConsentIntegrityError } from '../../lib/errors';
import { eventHash, GENESIS } from '../../lib/audit/chain';
import { normalizeRequirement } from '../../lib/registry/validate';
import { actionFor, planBatch, type BatchContext, type PlannedDecision } from '../../lib/state/plan';
import { headSeal } from '../../lib/audit/head-seal';
import type { SubjectSnapshot } from '../../lib/tracker/records';
import type { RequirementDefinition, State } from '../../lib/types';

const KEY = Buffer.alloc(32, 7);
const NOW = Date.UTC(2025, 0, 1);
const req = (id: string, extra: Partial<RequirementDefinition> = {}) => normalizeRequirement({ id, title: id, description: id, ...extra });
const ctx = (extra: Partial<BatchContext> = {}): BatchContext => ({
  now: NOW, source: 'app', actor: null, note: null, data: null, ip: null, userAgent: null, personalSalt: null, gpc: false, ...extra,
});
const empty: SubjectSnapshot = { chain: 'c'.repeat(32), seq: 0, hash: GENESIS, headId: null, mac: '', pseudonym: 'p', records: [] };
const decide = (id: string, decision: 'granted' | 'denied', extra: Partial<RequirementDefinition> = {}): PlannedDecision =>
  ({ requirement: req(id, extra), decision });

describe('actionFor', () => {
  const all: State[] = ['unset', 'denied', 'pending', 'outdated', 'expired', 'granted'];

  it('withdraws from granted, pending, expired and outdated; denies otherwise', () => {
    const actions = all.map((s) => [s, actionFor(decide('a', 'denied'), s, 'app')]);
    expect(actions).to.deep.equal([
      ['unset', 'deny'], ['denied', 'deny'], ['pending', 'withdraw'],
      ['outdated', 'withdraw'], ['expired', 'withdraw'], ['granted', 'withdraw'],
    ]);
  });

  it('grants, requests a double opt-in, and confirms through the confirm source', () => {
    expect(actionFor(decide('a', 'granted'), 'unset', 'api')).to.equal('grant');
    expect(actionFor(decide('a', 'granted', { doubleOptIn: true }), 'unset', 'api')).to.equal('request');
    expect(actionFor(decide('a', 'granted', { doubleOptIn: true }), 'granted', 'api')).to.equal('grant');
    expect(actionFor(decide('a', 'granted', { doubleOptIn: true }), 'pending', 'confirm')).to.equal('confirm');
  });
});

describe('planBatch', () => {
  it('chains every event on its predecessor (hash and id) and seals the head', () => {
    const { plan, changes } = planBatch(empty, [decide('a', 'granted'), decide('b', 'denied')], ctx(), KEY);
    const sealed = plan.seal(['101', '102']);
    const [first, second] = sealed.events;
    expect(first?.seq).to.equal(1);
    expect(second?.seq).to.equal(2);
    expect([first?.prevId, second?.prevId]).to.deep.equal([null, '101']);
    const fields = (e: typeof first) => {
      const { note: _n, data: _d, ip: _i, userAgent: _u, hash: _h, prevHash: _p, ...rest } = e!;
      return rest;
    };
    expect(first?.hash).to.equal(eventHash(KEY, GENESIS, fields(first)));
    expect(second?.prevHash).to.equal(first?.hash);
    expect(second?.hash).to.equal(eventHash(KEY, first!.hash, fields(second)));
    const head = { chain: empty.chain, pseudonym: 'p', seq: 2, hash: second!.hash, id: '102', erased: false };
    expect(sealed.head).to.deep.equal({ ...head, mac: headSeal(KEY, head, plan.records) });
    expect(changes.map((c) => [c.requirement, c.action, c.previous, c.state, c.seq])).to.deep.equal([
      ['a', 'grant', 'unset', 'granted', 1], ['b', 'deny', 'unset', 'denied', 2],
    ]);
  });

  it('makes each hash depend on the previous hash, the ids and the key', () => {
    const seal = (snapshot: SubjectSnapshot, key = KEY, id = '1') =>
      planBatch(snapshot, [decide('a', 'granted')], ctx(), key).plan.seal([id]).events[0]?.hash;
    const a = seal(empty);
    const other = { ...empty, hash: 'f'.repeat(64) };
    expect(seal({ ...other, mac: headSeal(KEY, { ...other, id: null, erased: false }, []) })).to.not.equal(a);
    expect(seal(empty, Buffer.alloc(32, 8))).to.not.equal(a);
    expect(seal(empty, KEY, '2')).to.not.equal(a);
  });

  it('refuses to build on a snapshot whose head, link or records are not as sealed', () => {
    const first = planBatch(empty, [decide('a', 'denied')], ctx(), KEY).plan;
    const head = first.seal(['7']).head;
    const snapshot = { ...empty, seq: head.seq, hash: head.hash, headId: head.id, mac: head.mac, records: first.records };
    const next = (s: SubjectSnapshot) => planBatch(s, [decide('b', 'granted')], ctx({ now: NOW + 1 }), KEY).plan.seal(['8']);
    expect(next(snapshot).head.seq).to.equal(2);
    const granted = { ...snapshot, records: [{ ...first.records[0]!, decision: 'granted' as const }] };
    expect(() => next(granted)).to.throw(ConsentIntegrityError);
    expect(() => next({ ...snapshot, records: [] })).to.throw(ConsentIntegrityError);
    expect(() => next({ ...snapshot, pseudonym: 'someone else' })).to.throw(ConsentIntegrityError);
    expect(() => next({ ...snapshot, mac: '' })).to.throw(ConsentIntegrityError);
  });

  it('refuses ids that do not match the events', () => {
    const { plan } = planBatch(empty, [decide('a', 'granted')], ctx(), KEY);
    expect(() => plan.seal([])).to.throw(/one id/);
  });

  it('continues an existing chain and reads the previous state from the snapshot', () => {
    const first = planBatch(empty, [decide('a', 'granted', { expiresAfterDays: 2 })], ctx(), KEY).plan;
    expect(first.records[0]?.expiresAt).to.equal(NOW + 2 * 86_400_000);
    const head = first.seal(['7']).head;
    const snapshot = { ...empty, seq: head.seq, hash: head.hash, headId: head.id, mac: head.mac, records: first.records };
    const { plan, changes } = planBatch(snapshot, [decide('a', 'denied', { expiresAfterDays: 2 })], ctx({ now: NOW + 1 }), KEY);
    expect(plan.events[0]?.seq).to.equal(2);
    const sealed = plan.seal(['8']);
    expect(sealed.events[0]).to.include({ prevId: '7', prevHash: head.hash });
    expect(changes[0]).to.include({ action: 'withdraw', previous: 'granted', state: 'denied' });
    expect(plan.records).to.have.length(1);
    expect(plan.records[0]).to.include({ decision: 'denied', expiresAt: null, decidedAt: NOW + 1 });
  });

  it('binds personal fields through their digest and records a gpc opt-in', () => {
    const plain = planBatch(empty, [decide('a', 'granted')], ctx(), KEY).plan;
    const noted = planBatch(empty, [decide('a', 'granted')], ctx({ note: 'hi', personalSalt: '01'.repeat(16), gpc: true }), KEY).plan;
    expect(noted.events[0]?.personalDigest).to.not.equal(plain.events[0]?.personalDigest);
    expect(noted.events[0]).to.include({ note: 'hi', personalSalt: '01'.repeat(16) });
    // The same note under another salt: another digest.
    const again = planBatch(empty, [decide('a', 'granted')], ctx({ note: 'hi', personalSalt: '02'.repeat(16) }), KEY).plan;
    expect(again.events[0]?.personalDigest).to.not.equal(noted.events[0]?.personalDigest);
    expect(() => planBatch(empty, [decide('a', 'granted')], ctx({ note: 'hi' }), KEY)).to.throw('personal fields need a salt');
    expect(noted.records[0]?.gpcOptIn).to.equal(true);
    expect(plain.records[0]?.gpcOptIn).to.equal(false);
  });

  it('plans a double opt-in request as pending and keeps the earlier decision', () => {
    const token = { hash: 'a'.repeat(64), expiresAt: NOW + 1000 };
    const { plan, changes } = planBatch(empty, [{ ...decide('a', 'granted', { doubleOptIn: true }), token }], ctx(), KEY);
    expect(changes[0]).to.include({ action: 'request', state: 'pending' });
    expect(plan.records[0]).to.include({ decision: null, pendingToken: token.hash, pendingExpiresAt: token.expiresAt });
  });

  it('re-uses a pending request of the same version asked less than resendAfterMs ago', () => {
    const ask = (snapshot: SubjectSnapshot, extra: Partial<BatchContext>, version = 1) => {
      const token = { hash: 'b'.repeat(64), expiresAt: (extra.now ?? NOW) + 86_400_000 };
      const planned = [{ ...decide('a', 'granted', { doubleOptIn: true, version }), token }, decide('b', 'granted')];
      return planBatch(snapshot, planned, ctx(extra), KEY);
    };
    const first = ask(empty, {});
    const pending: SubjectSnapshot = { ...empty, seq: 2, records: first.plan.records };
    const actions = (result: ReturnType<typeof ask>) => result.changes.map((c) => `${c.requirement}:${c.action}`);

    const repeated = ask(pending, { now: NOW + 599_999, resendAfterMs: 600_000 });
    expect(actions(repeated)).to.deep.equal(['b:grant']);
    expect(repeated.plan.events.map((e) => e.requirement)).to.deep.equal(['b']);
    expect(repeated.plan.records.map((r) => r.requirement)).to.deep.equal(['b']);

    expect(actions(ask(pending, { now: NOW + 600_000, resendAfterMs: 600_000 }))).to.deep.equal(['a:request', 'b:grant']);
    expect(actions(ask(pending, { now: NOW + 1, resendAfterMs: 0 }))).to.deep.equal(['a:request', 'b:grant']);
    expect(actions(ask(pending, { now: NOW + 1 }))).to.deep.equal(['a:request', 'b:grant']);
    expect(actions(ask(pending, { now: NOW + 1, resendAfterMs: 600_000 }, 2))).to.deep.equal(['a:request', 'b:grant']);
  });
});
