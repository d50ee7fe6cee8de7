import type { CurrentRecord } from '../tracker/records';
import type { LawfulBasis, Requirement, State, StateInfo } from '../types';
import { isoTimeOrNull as iso } from '../iso-time';

/** What `deriveState` finds: a state and the times that explain it (ms). */
export interface DerivedState {
  state: State;
  version: number | null;
  decidedAt: number | null;
  expiresAt: number | null;
}

// Every result is built by this one function, so that all have one shape: objects spread from
// a shared base had their keys in other orders, and the readers of mixed shapes ran several
// times slower.
const derived = (state: State, version: number | null, decidedAt: number | null, expiresAt: number | null): DerivedState => ({ state, version, decidedAt, expiresAt });

/**
 * Whether the record's double opt-in request, if any, is for the current text (or a later one,
 * registered by a newer release sharing the store). A request for an older text can no longer be
 * confirmed: the state falls back to the decision before it, as when its token expires.
 */
export function openRequest(record: CurrentRecord, requirement: Requirement): boolean {
  return (record.pendingVersion ?? 0) >= requirement.version;
}

/** Whether the record holds a confirmation request, for any text, that has not expired at `now`. */
export function liveRequest(record: CurrentRecord, now: number): boolean {
  return record.pendingToken !== null && record.pendingExpiresAt !== null && now < record.pendingExpiresAt;
}

/** The state of a stored record at `now`, with the times that explain it (ms). */
export function deriveState(record: CurrentRecord | undefined, requirement: Requirement, now: number): DerivedState {
  if (!record) return derived('unset', null, null, null);
  if (record.pendingExpiresAt !== null && now < record.pendingExpiresAt && openRequest(record, requirement)) {
    return derived('pending', record.pendingVersion, record.pendingAt, record.pendingExpiresAt);
  }
  switch (record.decision) {
    case null:
      return derived('unset', null, null, null);
    case 'denied':
      return derived('denied', record.version, record.decidedAt, null);
    case 'granted':
      // A grant of an older text no longer counts, whatever its expiry.
      if ((record.version ?? 0) < requirement.version) return derived('outdated', record.version, record.decidedAt, null);
      if (record.expiresAt !== null && now >= record.expiresAt) return derived('expired', record.version, record.decidedAt, record.expiresAt);
      return derived('granted', record.version, record.decidedAt, record.expiresAt);
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
  if (record.pendingExpiresAt !== null && now < record.pendingExpiresAt && openRequest(record, requirement)) return 'pending';
  if (record.decision === null) return 'unset';
  if (record.decision === 'denied') return 'denied';
  if ((record.version ?? 0) < requirement.version) return 'outdated';
  return record.expiresAt !== null && now >= record.expiresAt ? 'expired' : 'granted';
}

/** A subject's record of `requirement` among its records, if it has one. */
export function recordOf(records: readonly CurrentRecord[], requirement: string): CurrentRecord | undefined {
  for (const record of records) if (record.requirement === requirement) return record;
  return undefined;
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
