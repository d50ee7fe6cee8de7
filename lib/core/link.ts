import { ConsentError } from '../errors';
import { isoTime } from '../iso-time';
import type { BatchContext, Change } from '../state/plan';
import { planBatch } from '../state/plan';
import { planLink, type CarriedDecision } from '../state/plan-link';
import type { CurrentRecord, SubjectSnapshot } from '../tracker/records';
import type { ConsentEvent } from '../types';
import { batchContext } from './batch-context';
import type { ConsentCore } from './consent-core';
import { requireSubject } from './input';
import { NothingToWrite, raisedAs } from './nothing-to-write';
import { latestDecision, unfinishedLinks, withoutOwnMarks } from './link-resume';
import { inVisitorNamespace, isVisitorId } from './visitor-id';

/** What `link()` and `linkVisitor()` did. */
export interface LinkResult {
  /** The visitor linked, or null when the request had none (`link()` without a visitor cookie). */
  visitorId: string | null;
  /** The requirements whose decision was carried to the subject, in registration order. */
  linked: string[];
}

type LinkCore = Pick<ConsentCore, 'registry' | 'tracker' | 'derivedKeys' | 'eventIds' | 'ready' | 'now' | 'pseudonym' | 'records' | 'commit'>;

/** Plans a batch recording `carried` decisions with source `link`, each naming its counterpart event. */
function linkBatch(core: LinkCore, snapshot: SubjectSnapshot, carried: CarriedDecision[], now: number, ids: Record<string, string | null>, key: string) {
  const named: Record<string, string | null> = {};
  for (const c of carried) named[c.requirement.id] = ids[c.requirement.id] ?? null;
  // The expiries kept, so that a replay of the history (stateAt) finds them too.
  const kept: Record<string, string> = {};
  for (const c of carried) if (c.expiresAt !== null) kept[c.requirement.id] = isoTime(c.expiresAt);
  const link = Object.keys(kept).length === 0 ? { [key]: named } : { [key]: named, expiresAt: kept };
  const meta = { source: 'link' as const, actor: null, note: null, data: JSON.stringify({ link }), context: null };
  const gpc = carried.some((c) => c.gpcOptIn);
  const ctx: BatchContext = batchContext(now, meta, { gpc });
  // A grant keeps the expiry it was given with: linking is no new consent.
  // The text the visitor was shown, in the locale they read it: what receipts cite for the subject.
  return planBatch(snapshot, carried.map(({ requirement, decision, expiresAt, locale }) => ({ requirement, decision, expiresAt, locale })), ctx, core.derivedKeys.chain);
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
 * The two chains are two writes. When the second fails (the call rejects), the subject side
 * stands and the next call for the same visitor and subject records the visitor side (and
 * lists those requirements in `linked`); a completed link is never recorded twice.
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
  const subjectRecords = await core.records(subjectKey);
  const now = core.now();
  const planned = planLink(visitorRecords, subjectRecords, requirements, now);
  const visitorEvents = new Map<string, ConsentEvent | null>();
  for (const c of planned) visitorEvents.set(c.requirement.id, await latestDecision(core, visitorKey, c.requirement.id));
  // Each carried decision keeps the locale of the text the visitor decided on.
  const withLocale = (c: CarriedDecision): CarriedDecision => ({ ...c, locale: visitorEvents.get(c.requirement.id)?.locale ?? null });
  const candidates = (await withoutOwnMarks(core, subjectKey, planned, visitorEvents)).map(withLocale);
  // A link whose visitor side failed to be written is completed now (its subject side stands).
  const unfinished = await unfinishedLinks(core, { visitorKey, subjectKey, visitor: visitorRecords, subject: subjectRecords, requirements, now });
  if (candidates.length === 0 && unfinished.carried.length === 0) return { visitorId, linked: [] };
  const sources: Record<string, string | null> = {};
  for (const c of candidates) sources[c.requirement.id] = visitorEvents.get(c.requirement.id)?.id ?? null;

  const changes: Change[] = [];
  const subjectEvents: Record<string, string | null> = { ...unfinished.subjectEvents };
  for (const group of byOptIn(candidates)) {
    // Decided again from the subject's snapshot inside the write: a concurrent link or decision wins.
    const written = await core.commit({
      subjectId: subject,
      pseudonym: subjectKey,
      now,
      source: 'link',
      plan: (snapshot) => linkBatch(core, snapshot, planLink(visitorRecords, snapshot.records, group.map((c) => c.requirement), now).map(withLocale), now, sources, 'visitorEvents'),
    });
    for (const change of written.changes) {
      changes.push(change);
      subjectEvents[change.requirement] = core.eventIds.encode(change.eventId);
    }
  }
  const carried = candidates.filter((c) => changes.some((change) => change.requirement === c.requirement.id));
  const marks = [...carried, ...unfinished.carried];
  // A second write, on the visitor's chain: if it fails, the next link() completes it. Only the
  // decisions the visitor still holds are marked: an erasure meanwhile leaves nothing to mark,
  // and a new chain is never started for a visitor just erased.
  for (const group of byOptIn(marks)) {
    await core.commit({
      subjectId: visitorId,
      pseudonym: visitorKey,
      now,
      source: 'link',
      plan: (snapshot) => {
        const held = group.filter((c) => snapshot.records.some((r) => r.requirement === c.requirement.id && r.decision === c.decision));
        if (held.length === 0) throw new NothingToWrite();
        return linkBatch(core, snapshot, held, now, subjectEvents, 'subjectEvents');
      },
    }).catch((error: unknown) => {
      if (!raisedAs(error, NothingToWrite)) throw error;
    });
  }
  return { visitorId, linked: requirements.filter((r) => marks.some((c) => c.requirement === r)).map((r) => r.id) };
}
