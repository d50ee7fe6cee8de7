import { ConsentError } from '../errors';
import type { BatchContext, Change } from '../state/plan';
import { planBatch } from '../state/plan';
import { planLink, type CarriedDecision } from '../state/plan-link';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
import type { Action } from '../types';
import { batchContext } from './batch-context';
import type { ConsentCore } from './consent-core';
import { historyPage } from './history';
import { requireSubject } from './input';
import { inVisitorNamespace, isVisitorId } from './visitor-id';

/** What `link()` and `linkVisitor()` did. */
export interface LinkResult {
  /** The visitor linked, or null when the request had none (`link()` without a visitor cookie). */
  visitorId: string | null;
  /** The requirements whose decision was carried to the subject, in registration order. */
  linked: string[];
}

type LinkCore = Pick<ConsentCore, 'registry' | 'tracker' | 'derivedKeys' | 'eventIds' | 'ready' | 'now' | 'pseudonym' | 'records' | 'commit'>;

const DECISIONS: ReadonlySet<Action> = new Set(['grant', 'confirm', 'deny', 'withdraw']);

/** The public id of the visitor's event that made their current decision on `requirement`. */
async function decisionEvent(core: LinkCore, pseudonym: string, requirement: string): Promise<string | null> {
  const { events } = await historyPage(core.tracker, core.eventIds, pseudonym, { requirement, limit: 20 });
  return events.find((event) => DECISIONS.has(event.action))?.id ?? null;
}

/** Plans a batch recording `carried` decisions with source `link`, each naming its counterpart event. */
function linkBatch(core: LinkCore, snapshot: SubjectSnapshot, carried: CarriedDecision[], now: number, ids: Record<string, string | null>, key: string) {
  const named: Record<string, string | null> = {};
  for (const c of carried) named[c.requirement.id] = ids[c.requirement.id] ?? null;
  const meta = { source: 'link' as const, actor: null, note: null, data: JSON.stringify({ link: { [key]: named } }) };
  const gpc = carried.some((c) => c.gpcOptIn);
  const ctx: BatchContext = batchContext(now, meta, { gpc });
  return planBatch(snapshot, carried.map(({ requirement, decision }) => ({ requirement, decision })), ctx, core.derivedKeys.chain);
}

/** Groups decisions by their GPC opt-in flag, which a batch records for all of its grants alike. */
const byOptIn = (carried: CarriedDecision[]): CarriedDecision[][] =>
  [carried.filter((c) => !c.gpcOptIn), carried.filter((c) => c.gpcOptIn)].filter((group) => group.length > 0);

/**
 * Carries a visitor's decisions to a subject (see `planLink` for which): each is recorded on
 * the subject with source `link`, its `data` naming the visitor's event it comes from
 * (`{ link: { visitorEvents: { [id]: eventId } } }`); then the visitor's chain records the same
 * decisions again, with source `link` and `data` naming the subject's new events
 * (`{ link: { subjectEvents: … } }`), at the same instant. The visitor keeps their cookie and
 * their choices. Everything goes through the ordinary write path: both chains verify.
 *
 * @throws ConsentError `invalid_argument` for a `visitorId` that is not a visitor id;
 *   `invalid_subject` for a bad `subjectId` or one in the visitors' namespace.
 */
export async function linkVisitor(core: LinkCore, visitorId: unknown, subjectId: unknown): Promise<LinkResult> {
  if (!isVisitorId(visitorId)) throw new ConsentError('invalid_argument', 'visitorId must be a visitor id ("visitor:" and 22 characters)');
  const subject = requireSubject(subjectId);
  if (inVisitorNamespace(subject)) throw new ConsentError('invalid_subject', 'a visitor can only be linked to a subject, not to another visitor');
  await core.ready();
  const requirements = core.registry.ordered();
  const visitorKey = core.pseudonym(visitorId);
  const subjectKey = core.pseudonym(subject);
  const visitorRecords: CurrentRecord[] = await core.records(visitorKey);
  const now = core.now();
  const candidates = planLink(visitorRecords, await core.records(subjectKey), requirements, now);
  if (candidates.length === 0) return { visitorId, linked: [] };
  const sources: Record<string, string | null> = {};
  for (const c of candidates) sources[c.requirement.id] = await decisionEvent(core, visitorKey, c.requirement.id);

  const changes: Change[] = [];
  const subjectEvents: Record<string, string | null> = {};
  for (const group of byOptIn(candidates)) {
    // Decided again from the subject's snapshot inside the write: a concurrent link or decision wins.
    const written = await core.commit({
      subjectId: subject,
      pseudonym: subjectKey,
      now,
      source: 'link',
      plan: (snapshot) => linkBatch(core, snapshot, planLink(visitorRecords, snapshot.records, group.map((c) => c.requirement), now), now, sources, 'visitorEvents'),
    });
    for (const change of written.changes) {
      changes.push(change);
      subjectEvents[change.requirement] = core.eventIds.encode(change.eventId);
    }
  }
  const linked = candidates.filter((c) => changes.some((change) => change.requirement === c.requirement.id));
  for (const group of byOptIn(linked)) {
    await core.commit({
      subjectId: visitorId,
      pseudonym: visitorKey,
      now,
      source: 'link',
      plan: (snapshot) => linkBatch(core, snapshot, group, now, subjectEvents, 'subjectEvents'),
    });
  }
  return { visitorId, linked: linked.map((c) => c.requirement.id) };
}
