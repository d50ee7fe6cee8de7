import type { CurrentRecord } from '../tracker/records';
import type { LawfulBasis, Requirement, State, StateInfo } from '../types';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The state of a stored record at `now`, with the times that explain it (ms). */
export function deriveState(
  record: CurrentRecord | undefined,
  requirement: Requirement,
  now: number,
): { state: State; version: number | null; decidedAt: number | null; expiresAt: number | null } {
  if (!record) return { state: 'unset', version: null, decidedAt: null, expiresAt: null };
  if (record.pendingExpiresAt !== null && now < record.pendingExpiresAt) {
    return {
      state: 'pending',
      version: record.pendingVersion,
      decidedAt: record.pendingAt,
      expiresAt: record.pendingExpiresAt,
    };
  }
  const base = { version: record.version, decidedAt: record.decidedAt };
  switch (record.decision) {
    case null:
      return { state: 'unset', version: null, decidedAt: null, expiresAt: null };
    case 'denied':
      return { ...base, state: 'denied', expiresAt: null };
    case 'granted':
      // A grant of an older text no longer counts, whatever its expiry.
      if ((record.version ?? 0) < requirement.version) return { ...base, state: 'outdated', expiresAt: null };
      if (record.expiresAt !== null && now >= record.expiresAt) {
        return { ...base, state: 'expired', expiresAt: record.expiresAt };
      }
      return { ...base, state: 'granted', expiresAt: record.expiresAt };
  }
}

/** Whether a state lets processing happen under a lawful basis (GDPR Art. 6). */
export function allowedUnder(basis: LawfulBasis, state: State): boolean {
  switch (basis) {
    case 'consent':
      return state === 'granted';
    case 'legitimate_interests':
      // Processing stands until the subject objects (Art. 21).
      return state !== 'denied';
    case 'contract':
    case 'legal_obligation':
    case 'vital_interests':
    case 'public_task':
      return true;
  }
}

function allowedIn(state: State, record: CurrentRecord | undefined, requirement: Requirement, gpc: boolean): boolean {
  if (!allowedUnder(requirement.lawfulBasis, state)) return false;
  return !(gpc && requirement.gpc && !(state === 'granted' && record?.gpcOptIn));
}

/**
 * The state alone, as `deriveState` finds it, without allocating: the guard's check when it
 * has no cached window to compare with (cache disabled or missed, `Sec-GPC: 1`, a refusal).
 */
export function stateOf(record: CurrentRecord | undefined, requirement: Requirement, now: number): State {
  if (!record) return 'unset';
  if (record.pendingExpiresAt !== null && now < record.pendingExpiresAt) return 'pending';
  if (record.decision === null) return 'unset';
  if (record.decision === 'denied') return 'denied';
  if ((record.version ?? 0) < requirement.version) return 'outdated';
  return record.expiresAt !== null && now >= record.expiresAt ? 'expired' : 'granted';
}

/** Whether processing is allowed now: `stateInfo(...).allowed` without building the rest. */
export function isAllowedNow(record: CurrentRecord | undefined, requirement: Requirement, now: number, gpc: boolean): boolean {
  return allowedIn(stateOf(record, requirement, now), record, requirement, gpc);
}

/**
 * The full `StateInfo`. With `gpc` (the request carries `Sec-GPC: 1`), a `gpc` requirement is
 * allowed only if the subject granted it while sending the signal.
 */
export function stateInfo(
  record: CurrentRecord | undefined,
  requirement: Requirement,
  now: number,
  gpc = false,
): StateInfo {
  const derived = deriveState(record, requirement, now);
  const allowed = allowedIn(derived.state, record, requirement, gpc);
  return {
    id: requirement.id,
    state: derived.state,
    allowed,
    version: derived.version,
    decidedAt: iso(derived.decidedAt),
    expiresAt: iso(derived.expiresAt),
  };
}

const ASKS_AGAIN: ReadonlySet<State> = new Set(['unset', 'expired', 'outdated']);

/** Whether a requirement belongs on the pending list: consent basis and a question to ask. */
export function isPending(requirement: Requirement, info: StateInfo): boolean {
  return requirement.lawfulBasis === 'consent' && ASKS_AGAIN.has(info.state);
}
