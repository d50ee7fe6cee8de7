import { hasNoPersonalValues, storedDigest } from '../audit/chain';
import { sealChain } from '../audit/seal';
import type { CurrentRecord, DraftEvent, SubjectSnapshot, WritePlan } from '../tracker/records';
import { batchTime } from './batch-time';
import { emptyRecord } from '../tracker/records';
import type { Action, Decision, Requirement, Source, State } from '../types';
import { deriveState } from './derive';

const DAY_MS = 86_400_000;

/** One decision to apply, already validated. */
export interface PlannedDecision {
  requirement: Requirement;
  decision: Decision;
  /** The locale of the text shown; null for a decision without a text (a signal, a sweep). */
  locale?: string | null;
  /** For a double opt-in grant: the keyed hash of the new token and when it lapses. */
  token?: { hash: string; expiresAt: number };
  /**
   * For a grant carried from where it was given (a visitor's, by `link`): when it stops counting,
   * kept as given. Absent: `expiresAfterDays` from now.
   */
  expiresAt?: number | null;
}

/** The context shared by every event of one batch. */
export interface BatchContext {
  now: number;
  source: Source;
  actor: string | null;
  note: string | null;
  data: string | null;
  ip: string | null;
  userAgent: string | null;
  /**
   * The salt of the batch's personal digest (`newPersonalSalt` of the five fields above): random,
   * so it comes with the context and the plan stays pure.
   */
  personalSalt: string | null;
  /** Where the question was asked (see `RecordMeta.context`). @default null */
  context?: string | null;
  /** The request carried `Sec-GPC: 1`: a grant made now is an explicit opt-in. */
  gpc: boolean;
  /**
   * How long (ms) a pending double opt-in request is re-used by a repeated one instead of being
   * superseded (see `reusesPending`); absent or 0: never.
   */
  resendAfterMs?: number;
}

/** What one decision did, for results and change events. */
export interface Change {
  requirement: string;
  action: Action;
  previous: State;
  state: State;
  seq: number;
  /** When it happened: its event's `at`. */
  at: number;
}

const WITHDRAWABLE: ReadonlySet<State> = new Set(['granted', 'pending', 'expired', 'outdated']);

/** A denial withdraws what was given (or asked and not yet answered), else it is a `deny`. */
export function denialAction(previous: State): Action {
  return WITHDRAWABLE.has(previous) ? 'withdraw' : 'deny';
}

/** The action a decision records, given the state before it (a denial of a live grant is a withdrawal). */
export function actionFor(decision: PlannedDecision, previous: State, source: Source): Action {
  if (decision.decision === 'denied') return denialAction(previous);
  // A double opt-in grant waits for confirmation, unless this version is already confirmed.
  if (decision.requirement.doubleOptIn && source !== 'confirm' && previous !== 'granted') return 'request';
  return source === 'confirm' ? 'confirm' : 'grant';
}

/**
 * Whether a double opt-in grant repeats the pending request instead of asking again: same
 * version, still pending, asked less than `ctx.resendAfterMs` ago. It then records nothing, so
 * no second confirmation goes out and the link already sent stays the valid one.
 */
function reusesPending(record: CurrentRecord | undefined, planned: PlannedDecision, previous: State, ctx: BatchContext): boolean {
  const { requirement } = planned;
  return (
    previous === 'pending' &&
    actionFor(planned, previous, ctx.source) === 'request' &&
    record?.pendingVersion === requirement.version &&
    record.pendingAt !== null &&
    ctx.now - record.pendingAt < (ctx.resendAfterMs ?? 0)
  );
}

function nextRecord(
  before: CurrentRecord,
  planned: PlannedDecision,
  action: Action,
  ctx: BatchContext,
): CurrentRecord {
  const { requirement } = planned;
  if (action === 'request') {
    if (!planned.token) throw new Error('a double opt-in request needs a token');
    return {
      ...before,
      pendingVersion: requirement.version,
      pendingAt: ctx.now,
      pendingExpiresAt: planned.token.expiresAt,
      pendingToken: planned.token.hash,
    };
  }
  const granted = planned.decision === 'granted';
  const lapses = requirement.expiresAfterDays === null ? null : ctx.now + requirement.expiresAfterDays * DAY_MS;
  return {
    requirement: requirement.id,
    decision: planned.decision,
    version: requirement.version,
    decidedAt: ctx.now,
    expiresAt: granted ? (planned.expiresAt === undefined ? lapses : planned.expiresAt) : null,
    gpcOptIn: granted && ctx.gpc,
    // Any decision closes an open request: a denial cancels it, a grant completes it.
    pendingVersion: null,
    pendingAt: null,
    pendingExpiresAt: null,
    pendingToken: null,
    expiryRecorded: false,
  };
}

/**
 * Plans one atomic batch: the events to append, the records to write, and how to chain the
 * events once the tracker has given them ids; a decision that re-uses a pending request adds
 * neither, dated by `batchTime`. Pure: everything comes from the snapshot read inside the write
 * transaction.
 */
export function planBatch(
  snapshot: SubjectSnapshot,
  decisions: PlannedDecision[],
  clockCtx: BatchContext,
  chainKey: Buffer,
): { plan: WritePlan; changes: Change[] } {
  const at = batchTime(snapshot.records, clockCtx.now);
  const ctx = at === clockCtx.now ? clockCtx : { ...clockCtx, now: at };
  const records = new Map(snapshot.records.map((record) => [record.requirement, record]));
  if (ctx.personalSalt === null && !hasNoPersonalValues(ctx)) throw new Error('planBatch: personal fields need a salt (newPersonalSalt)');
  const digest = storedDigest(chainKey, {
    actor: ctx.actor,
    note: ctx.note,
    data: ctx.data,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    personalSalt: ctx.personalSalt,
  });
  const events: DraftEvent[] = [];
  const changes: Change[] = [];
  let { seq } = snapshot;
  for (const planned of decisions) {
    const { requirement } = planned;
    const stored = records.get(requirement.id);
    const previous = deriveState(stored, requirement, ctx.now).state;
    if (reusesPending(stored, planned, previous, ctx)) continue;
    const action = actionFor(planned, previous, ctx.source);
    const after = nextRecord(stored ?? emptyRecord(requirement.id), planned, action, ctx);
    const state = deriveState(after, requirement, ctx.now).state;
    seq += 1;
    events.push({
      chain: snapshot.chain,
      seq,
      requirement: requirement.id,
      version: requirement.version,
      action,
      state,
      source: ctx.source,
      actor: ctx.actor,
      at: ctx.now,
      note: ctx.note,
      data: ctx.data,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      personalDigest: digest,
      personalSalt: ctx.personalSalt,
      context: ctx.context ?? null,
      locale: planned.locale ?? null,
    });
    records.set(requirement.id, after);
    changes.push({ requirement: requirement.id, action, previous, state, seq, at });
  }
  const touched = new Set(changes.map((c) => c.requirement));
  const changed = [...records.values()].filter((record) => touched.has(record.requirement));
  return {
    plan: {
      events,
      records: changed,
      seal: (ids) => sealChain(chainKey, snapshot, events, ids, changed),
    },
    changes,
  };
}
