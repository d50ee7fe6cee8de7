import type { CarriedDecision } from '../state/plan-link';
import { planLink } from '../state/plan-link';
import type { CurrentRecord } from '../tracker/records';
import type { Action, ConsentEvent, Requirement } from '../types';
import type { ConsentCore } from './consent-core';
import { historyPage } from './history';

type HistoryCore = Pick<ConsentCore, 'tracker' | 'eventIds'>;

const DECISIONS: ReadonlySet<Action> = new Set(['grant', 'confirm', 'deny', 'withdraw']);

/** The newest event of a chain that made a decision on `requirement`, or null. */
export async function latestDecision(core: HistoryCore, pseudonym: string, requirement: string): Promise<ConsentEvent | null> {
  const { events } = await historyPage(core.tracker, core.eventIds, pseudonym, { requirement, limit: 20 });
  return events.find((event) => DECISIONS.has(event.action)) ?? null;
}

/** The event of the other side a `link` event names for `requirement` (`side` of its data), or undefined. */
function linkedFrom(event: ConsentEvent | null, side: 'visitorEvents' | 'subjectEvents', requirement: string): unknown {
  if (event?.source !== 'link') return undefined;
  const link = event.data?.link as Record<string, Record<string, unknown> | undefined> | undefined;
  return link?.[side]?.[requirement];
}

/**
 * The candidates of a link (`planLink`) less those whose visitor decision is the visitor's own
 * mark of a link to this very subject: a link completed by `unfinishedLinks` marks the visitor
 * later than the subject, which would otherwise read as a newer decision to carry back.
 * `visitorEvents` holds the visitor's latest decision event of each candidate.
 */
export async function withoutOwnMarks(core: HistoryCore, subjectKey: string, candidates: CarriedDecision[], visitorEvents: Map<string, ConsentEvent | null>): Promise<CarriedDecision[]> {
  const kept: CarriedDecision[] = [];
  for (const candidate of candidates) {
    const id = candidate.requirement.id;
    const named = linkedFrom(visitorEvents.get(id) ?? null, 'subjectEvents', id);
    if (named !== undefined && named === (await latestDecision(core, subjectKey, id))?.id) continue;
    kept.push(candidate);
  }
  return kept;
}

/** What the two chains hold now, for `unfinishedLinks`. */
export interface LinkSides {
  visitorKey: string;
  subjectKey: string;
  visitor: CurrentRecord[];
  subject: CurrentRecord[];
  requirements: readonly Requirement[];
  now: number;
}

/**
 * Links whose subject side was recorded but whose visitor side was not (the write of the
 * visitor's chain failed after the subject's had committed): the subject's latest decision on a
 * requirement is a `link` event naming the visitor's latest decision event, which a completed
 * link would have followed with a newer one. Returns them with the subject's events, for the
 * visitor's chain to record now. Only requirements where the subject holds the visitor's live
 * decision, decided later than the visitor did, are read (a completed link leaves both at the
 * same instant), so linking again after a complete link reads nothing more.
 */
export async function unfinishedLinks(core: HistoryCore, sides: LinkSides): Promise<{ carried: CarriedDecision[]; subjectEvents: Record<string, string> }> {
  const visitorById = new Map(sides.visitor.map((r) => [r.requirement, r]));
  const subjectById = new Map(sides.subject.map((r) => [r.requirement, r]));
  const carried: CarriedDecision[] = [];
  const subjectEvents: Record<string, string> = {};
  // The visitor's live decisions: what planLink would carry to a subject without any.
  for (const live of planLink(sides.visitor, [], sides.requirements, sides.now)) {
    const id = live.requirement.id;
    const own = visitorById.get(id);
    const theirs = subjectById.get(id);
    if (own?.decidedAt == null || theirs?.decidedAt == null || theirs.decision !== live.decision || theirs.decidedAt <= own.decidedAt) continue;
    const visitorEvent = await latestDecision(core, sides.visitorKey, id);
    const subjectEvent = await latestDecision(core, sides.subjectKey, id);
    if (visitorEvent === null || subjectEvent === null || linkedFrom(subjectEvent, 'visitorEvents', id) !== visitorEvent.id) continue;
    carried.push({ ...live, locale: visitorEvent.locale });
    subjectEvents[id] = subjectEvent.id;
  }
  return { carried, subjectEvents };
}
