import type { CurrentRecord } from '../tracker/records';
import type { Decision, Requirement } from '../types';
import { deriveState } from './derive';

/** A visitor's decision that linking carries to a subject. */
export interface CarriedDecision {
  requirement: Requirement;
  decision: Decision;
  /** The visitor granted it while sending the GPC signal (an explicit opt-in, kept as such). */
  gpcOptIn: boolean;
  /** When the visitor's grant stops counting, kept as given (null: a denial, or no expiry). */
  expiresAt: number | null;
  /** The locale of the text the visitor decided on, recorded again with the carried decision. */
  locale?: string | null;
}

/** When the subject last answered: a decision, or a double opt-in request made after it. */
function lastAnswer(record: CurrentRecord | undefined): number | null {
  if (!record) return null;
  const times = [record.decidedAt, record.pendingAt].filter((t): t is number => t !== null);
  return times.length === 0 ? null : Math.max(...times);
}

/**
 * The visitor's decisions to record on the subject at `now`: every live one (a current,
 * unexpired grant, or a denial) on a requirement where the subject has not answered, or
 * answered before the visitor did. A newer answer of the subject always stands, and so does
 * an equally old one: a second link, whose events are as old as the visitor's, carries nothing.
 * A double opt-in grant is never carried: only the person can confirm it, for the account.
 * Pure: in registration order.
 */
export function planLink(visitor: CurrentRecord[], subject: CurrentRecord[], requirements: readonly Requirement[], now: number): CarriedDecision[] {
  const visitorById = new Map(visitor.map((r) => [r.requirement, r]));
  const subjectById = new Map(subject.map((r) => [r.requirement, r]));
  const carried: CarriedDecision[] = [];
  for (const requirement of requirements) {
    const record = visitorById.get(requirement.id);
    if (!record || record.decision === null || record.decidedAt === null) continue;
    const { state } = deriveState(record, requirement, now);
    if (state !== 'granted' && state !== 'denied') continue;
    if (state === 'granted' && requirement.doubleOptIn) continue;
    const answered = lastAnswer(subjectById.get(requirement.id));
    if (answered !== null && answered >= record.decidedAt) continue;
    const granted = state === 'granted';
    carried.push({ requirement, decision: record.decision, gpcOptIn: granted && record.gpcOptIn, expiresAt: granted ? record.expiresAt : null });
  }
  return carried;
}
