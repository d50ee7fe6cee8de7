import type { CurrentRecord, StoredEvent } from '../tracker/records';
import { emptyRecord } from '../tracker/records';
import type { Requirement } from '../types';

const DAY_MS = 86_400_000;

/**
 * Rebuilds a subject's record of one requirement from its events (oldest first), as it stood
 * at `until` (epoch ms): the inverse of the planner, for `stateAt`. Pure.
 *
 * `confirmTtlMs` is the token lifetime, so a request made at `at` lapses at `at + confirmTtlMs`.
 */
export function replayRecord(
  events: Iterable<StoredEvent>,
  requirement: Requirement,
  until: number,
  confirmTtlMs: number,
): CurrentRecord | undefined {
  let record: CurrentRecord | undefined;
  for (const event of events) {
    if (event.at > until) continue;
    if (event.requirement !== requirement.id && event.action !== 'erase') continue;
    const base = record ?? emptyRecord(requirement.id);
    const closed = { pendingVersion: null, pendingAt: null, pendingExpiresAt: null, pendingToken: null };
    switch (event.action) {
      case 'grant':
      case 'confirm':
        record = {
          ...base,
          ...closed,
          decision: 'granted',
          version: event.version,
          decidedAt: event.at,
          expiresAt: requirement.expiresAfterDays === null ? null : event.at + requirement.expiresAfterDays * DAY_MS,
        };
        break;
      case 'deny':
      case 'withdraw':
        record = { ...base, ...closed, decision: 'denied', version: event.version, decidedAt: event.at, expiresAt: null };
        break;
      case 'request':
        record = { ...base, pendingVersion: event.version, pendingAt: event.at, pendingExpiresAt: event.at + confirmTtlMs };
        break;
      case 'erase':
        record = undefined;
        break;
      case 'expire':
        // Records what the clock already implies; the derivation needs nothing from it.
        break;
    }
  }
  return record;
}
