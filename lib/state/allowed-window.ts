import type { CurrentRecord } from '../tracker/records';
import type { Requirement } from '../types';
import { openRequest } from './derive';

/**
 * When a stored record allows processing for a request without `Sec-GPC: 1`: from `from`
 * (inclusive) to `until` (exclusive), as epoch milliseconds. A record's state only changes
 * with time at its pending and grant expiries, and under every lawful basis the allowed times
 * form one such interval, so the guard's cache can answer with two comparisons instead of
 * deriving the state again. Empty when `from >= until`.
 *
 * It must agree with `isAllowedNow(record, requirement, t, false)` at every `t` before
 * `supersededAt` (when the next registered version becomes current); a property test holds it
 * to that. Every window ends at `supersededAt`, whatever the lawful basis: the next version
 * may have another basis or text, so from then on the state is derived again.
 */
export function allowedWindow(record: CurrentRecord | undefined, requirement: Requirement, supersededAt = Infinity): [number, number] {
  const always: [number, number] = [-Infinity, supersededAt];
  const pendingUntil = record !== undefined && openRequest(record, requirement) ? record.pendingExpiresAt ?? -Infinity : -Infinity;
  switch (requirement.lawfulBasis) {
    case 'consent': {
      // Granted, of the current text, once any pending confirmation has lapsed, until expiry or
      // until a version registered ahead becomes current (the grant is then outdated).
      if (record?.decision !== 'granted' || (record.version ?? 0) < requirement.version) return [0, 0];
      return [pendingUntil, Math.min(record.expiresAt ?? Infinity, supersededAt)];
    }
    case 'legitimate_interests':
      // Allowed unless denied; a pending confirmation counts as not denied while it lasts.
      return record?.decision === 'denied' ? [-Infinity, Math.min(pendingUntil, supersededAt)] : always;
    case 'contract':
    case 'legal_obligation':
    case 'vital_interests':
    case 'public_task':
      return always;
  }
}

/**
 * The windows of every requirement (`supersededAt[i]`: when the i-th stops being current), flat in registry order (`from`, `until` of the first,
 * then of the second, …): one array of plain numbers that a cache entry keeps beside the
 * records it was computed from.
 */
export function allowedWindows(records: readonly CurrentRecord[], ordered: readonly Requirement[], supersededAt: readonly number[] = []): number[] {
  const windows: number[] = [];
  for (const [i, requirement] of ordered.entries()) {
    const [from, until] = allowedWindow(
      records.find((record) => record.requirement === requirement.id),
      requirement,
      supersededAt[i] ?? Infinity,
    );
    windows.push(from, until);
  }
  return windows;
}

/** Whether every listed requirement (indexes in registry order) is allowed at `now`. */
export function allowedAt(windows: readonly number[], indexes: readonly number[], now: number): boolean {
  for (const index of indexes) {
    const from = windows[2 * index] as number;
    const until = windows[2 * index + 1] as number;
    if (!(now >= from && now < until)) return false;
  }
  return true;
}
