import { expect } from 'chai';
import { normalizeRequirement } from '../../lib/registry/validate';
import { allowedUnder, deriveState, isPending, stateInfo } from '../../lib/state/derive';
import { emptyRecord, type CurrentRecord } from '../../lib/tracker/records';
import type { RequirementDefinition } from '../../lib/types';

const NOW = Date.UTC(2025, 5, 1);
const req = (extra: Partial<RequirementDefinition> = {}) =>
  normalizeRequirement({ id: 'news', title: 'News', description: 'Mail', version: 2, ...extra });
const rec = (extra: Partial<CurrentRecord>): CurrentRecord => ({ ...emptyRecord('news'), ...extra });
const granted = (extra: Partial<CurrentRecord> = {}) => rec({ decision: 'granted', version: 2, decidedAt: NOW - 10, ...extra });

describe('deriveState', () => {
  it('is unset without a record or without a decision', () => {
    expect(deriveState(undefined, req(), NOW)).to.deep.equal({ state: 'unset', version: null, decidedAt: null, expiresAt: null });
    expect(deriveState(rec({}), req(), NOW).state).to.equal('unset');
  });

  it('is granted for a grant of the current version, with its expiry', () => {
    expect(deriveState(granted({ expiresAt: NOW + 1 }), req(), NOW)).to.deep.equal({
      state: 'granted', version: 2, decidedAt: NOW - 10, expiresAt: NOW + 1,
    });
  });

  it('counts a grant of a newer version than registered as granted (rolling deploys)', () => {
    expect(deriveState(granted({ version: 3 }), req(), NOW).state).to.equal('granted');
  });

  it('is outdated for a grant of an older version, even when also expired', () => {
    expect(deriveState(granted({ version: 1, expiresAt: NOW - 1 }), req(), NOW)).to.include({ state: 'outdated', expiresAt: null });
  });

  it('is expired exactly at expiresAt and granted one millisecond before', () => {
    expect(deriveState(granted({ expiresAt: NOW }), req(), NOW).state).to.equal('expired');
    expect(deriveState(granted({ expiresAt: NOW + 1 }), req(), NOW).state).to.equal('granted');
  });

  it('stays denied across version bumps', () => {
    expect(deriveState(rec({ decision: 'denied', version: 1, decidedAt: NOW }), req({ version: 5 }), NOW)).to.include({ state: 'denied', version: 1 });
  });

  it('is pending while a request token is valid, then falls back to the decision', () => {
    const r = granted({ version: 1, pendingVersion: 2, pendingAt: NOW - 5, pendingExpiresAt: NOW + 100 });
    expect(deriveState(r, req(), NOW)).to.deep.equal({ state: 'pending', version: 2, decidedAt: NOW - 5, expiresAt: NOW + 100 });
    expect(deriveState(r, req(), NOW + 100).state).to.equal('outdated');
    expect(deriveState(rec({ pendingVersion: 2, pendingAt: 1, pendingExpiresAt: NOW }), req(), NOW).state).to.equal('unset');
  });
});

describe('allowedUnder and isPending', () => {
  const states = ['unset', 'denied', 'pending', 'outdated', 'expired', 'granted'] as const;

  it('allows consent only when granted', () => {
    expect(states.filter((s) => allowedUnder('consent', s))).to.deep.equal(['granted']);
  });

  it('allows legitimate interests unless denied', () => {
    expect(states.filter((s) => !allowedUnder('legitimate_interests', s))).to.deep.equal(['denied']);
  });

  it('always allows contract, legal obligation, vital interests and public task', () => {
    for (const basis of ['contract', 'legal_obligation', 'vital_interests', 'public_task'] as const) {
      expect(states.every((s) => allowedUnder(basis, s)), basis).to.equal(true);
    }
  });

  it('lists consent requirements that are unset, expired or outdated', () => {
    const pendingStates = states.filter((s) => isPending(req(), { id: 'news', state: s, allowed: false, version: null, decidedAt: null, expiresAt: null }));
    expect(pendingStates).to.deep.equal(['unset', 'outdated', 'expired']);
    const li = req({ lawfulBasis: 'legitimate_interests' });
    expect(isPending(li, stateInfo(undefined, li, NOW))).to.equal(false);
  });
});

describe('stateInfo', () => {
  it('formats times as ISO-8601 UTC with milliseconds', () => {
    const info = stateInfo(granted({ expiresAt: NOW + 1 }), req(), NOW);
    expect(info).to.deep.equal({
      id: 'news', state: 'granted', allowed: true, version: 2,
      decidedAt: new Date(NOW - 10).toISOString(), expiresAt: new Date(NOW + 1).toISOString(),
    });
  });

  it('refuses a gpc requirement under Sec-GPC unless granted while sending it', () => {
    const r = req({ gpc: true });
    expect(stateInfo(granted(), r, NOW, true).allowed).to.equal(false);
    expect(stateInfo(granted({ gpcOptIn: true }), r, NOW, true).allowed).to.equal(true);
    expect(stateInfo(granted(), r, NOW, false).allowed).to.equal(true);
    const li = req({ gpc: true, lawfulBasis: 'legitimate_interests' });
    expect(stateInfo(undefined, li, NOW, true).allowed).to.equal(false);
    expect(stateInfo(undefined, li, NOW, false).allowed).to.equal(true);
  });
});
