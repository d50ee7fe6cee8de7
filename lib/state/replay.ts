import type { CurrentRecord, StoredEvent } from '../tracker/records';
import { emptyRecord } from '../tracker/records';
import type { Requirement } from '../types';

const DAY_MS = 86_400_000;

/**
 * Rebuilds a subject's record of one requirement from its events (oldest first), as it stood
 * at `until` (epoch ms): the inverse of the planner, for `stateAt`. Pure.
 *
 * Events do not record the lifetimes fixed when they were written: a grant's expiry and a
 * request's token lifetime. `stored` (the subject's current record, its seal checked) holds
 * them for the newest grant and the open request, which are taken from it when the events are
 * the ones it records; earlier ones are given today's `requirement.expiresAfterDays` and
 * `confirmTtlMs` (a request made at `at` lapses at `at + confirmTtlMs`).
 */
export function replayRecord(
  events: Iterable<StoredEvent>,
  requirement: Requirement,
  until: number,
  confirmTtlMs: number,
  stored?: CurrentRecord,
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
          expiresAt: sameGrant(stored, event)
            ? stored.expiresAt
            : keptExpiry(event) ?? (requirement.expiresAfterDays === null ? null : event.at + requirement.expiresAfterDays * DAY_MS),
        };
        break;
      case 'deny':
      case 'withdraw':
        record = { ...base, ...closed, decision: 'denied', version: event.version, decidedAt: event.at, expiresAt: null };
        break;
      case 'request':
        record = {
          ...base,
          pendingVersion: event.version,
          pendingAt: event.at,
          pendingExpiresAt: sameRequest(stored, event) ? stored.pendingExpiresAt : event.at + confirmTtlMs,
        };
        break;
      case 'erase':
        record = undefined;
        break;
      case 'expire':
        // The grant had lapsed by then, whatever lifetime today's options would give it.
        if (record?.decision === 'granted' && (record.expiresAt === null || record.expiresAt > event.at)) record = { ...record, expiresAt: event.at };
        break;
    }
  }
  return record;
}

/**
 * The expiry a grant carried by `link` kept from where it was given (its `data` names it), or
 * undefined for any other event, or one whose data is gone (erased).
 */
function keptExpiry(event: StoredEvent): number | undefined {
  if (event.source !== 'link' || event.data === null) return undefined;
  try {
    const kept = (JSON.parse(event.data) as { link?: { expiresAt?: Record<string, unknown> } }).link?.expiresAt?.[event.requirement];
    const ms = typeof kept === 'string' ? Date.parse(kept) : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `stored` records the grant `event` made (then it holds the expiry fixed at the time). */
function sameGrant(stored: CurrentRecord | undefined, event: StoredEvent): stored is CurrentRecord {
  return stored !== undefined && stored.decision === 'granted' && stored.decidedAt === event.at && stored.version === event.version;
}

/** Whether `stored` records the request `event` made, still open (with its token's expiry). */
function sameRequest(stored: CurrentRecord | undefined, event: StoredEvent): stored is CurrentRecord & { pendingExpiresAt: number } {
  return stored?.pendingAt === event.at && stored.pendingVersion === event.version && stored.pendingExpiresAt !== null;
}
