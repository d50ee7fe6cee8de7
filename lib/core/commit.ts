import { sealSubject } from '../audit/subject-seal';
import type { Change } from '../state/plan';
import type { CurrentRecord, OutboxEntry, SubjectSnapshot, WritePlan } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import type { Source } from '../types';
import { ConsentStoreError } from '../errors';
import type { ConfirmLinks } from './confirm-links';
import { changePayload, type ConfirmationPayload, type EventHub } from './events';
import type { Keyring } from './keyring';
import type { CommittedChange, IssuedToken } from './write-types';

/** What a write needs besides its request; the engine builds it once. */
export interface CommitDeps {
  /**
   * The tracker behind its storage deadline, forgetting the subject's cached state as the
   * write ends (and again if it commits after its deadline).
   */
  readonly tracker: Pick<ConsentTracker, 'write'>;
  readonly keyring: Pick<Keyring, 'keys' | 'eventIds'>;
  readonly events: Pick<EventHub, 'entries' | 'emit' | 'listens'>;
  readonly links: Pick<ConfirmLinks, 'url'>;
  /** Wakes the outbox poller after a write that queued entries. */
  readonly outbox: { kick(): void };
  /**
   * How long the write's caller waits (`storeTimeoutMs`): a write not yet planned by then is
   * refused instead of made.
   */
  readonly deadlineMs?: number;
}

/** One write of the engine: how to plan it from the snapshot, and who it is about. */
export interface CommitRequest {
  /** The real subject id, for event payloads; null when only the pseudonym is known (sweep). */
  subjectId: string | null;
  pseudonym: string;
  now: number;
  source: Source;
  /** Tokens minted for double opt-in grants; kept only for requests the plan records. */
  tokens?: IssuedToken[];
  /** The mount path of the router request that writes, for the tokens' links (else the latest one seen). */
  mountPath?: string;
  /** Pure and synchronous (it runs inside the tracker's transaction); one event per change. */
  plan(snapshot: SubjectSnapshot): { plan: WritePlan; changes: Change[] };
}

/** What a commit did. `records` are the subject's records right after it. */
export interface CommitResult {
  changes: CommittedChange[];
  records: CurrentRecord[];
  tokens: IssuedToken[];
}

const issuedFor = (tokens: IssuedToken[], changes: Change[]) =>
  tokens.filter((t) => changes.some((c) => c.requirement === t.requirement && c.action === 'request'));

function confirmation(links: CommitDeps['links'], subjectId: string, token: IssuedToken, mountPath?: string): ConfirmationPayload {
  const { requirement, version, expiresAt } = token;
  return { subjectId, requirement, version, token: token.token, url: links.url(token.token, mountPath), expiresAt: new Date(expiresAt).toISOString() };
}

function outboxFor(deps: CommitDeps, subjectId: string, request: CommitRequest, changes: Change[], tokens: IssuedToken[]): OutboxEntry[] {
  const { events } = deps;
  const key = deps.keyring.keys.outbox;
  // Outbox times are operational (leases, retries): the wall clock, not the `now` option.
  const available = Date.now();
  const entries = changes.flatMap((change, index) => {
    const owed = (change.action === 'withdraw' ? (['change', 'withdrawn'] as const) : (['change'] as const)).filter((event) => events.listens(event, true));
    if (owed.length === 0) return [];
    const payload = changePayload(subjectId, change, request.source, change.at);
    return owed.flatMap((event) => events.entries(key, event, payload, index, available));
  });
  for (const token of tokens) entries.push(...events.entries(key, 'confirmation', confirmation(deps.links, subjectId, token, request.mountPath), null, available));
  return entries;
}

/**
 * Runs one write through the tracker: the plan, and in the same transaction the outbox entries
 * of durable handlers. After the commit: emits in-process events and wakes the outbox poller.
 * A write that reaches its plan after `deadlineMs` is refused (nothing is written).
 */
export async function commitWrite(deps: CommitDeps, request: CommitRequest): Promise<CommitResult> {
  // Wall time, as the caller's deadline is: the `now` option may stand still.
  const started = Date.now();
  const written = await deps.tracker.write(request.pseudonym, (snapshot) => {
    // Its caller was answered 503 at the deadline. A write that reaches its plan only later (it
    // waited in the queue, or behind another transaction's lock) must not be made: it would
    // overtake a decision the subject made, and was answered for, in the meantime.
    if (deps.deadlineMs !== undefined && Date.now() - started >= deps.deadlineMs) {
      throw new ConsentStoreError(`the write waited past its ${String(deps.deadlineMs)} ms deadline and was not made`);
    }
    const { plan, changes } = request.plan(snapshot);
    const tokens = issuedFor(request.tokens ?? [], changes);
    if (request.subjectId !== null) {
      plan.outbox = outboxFor(deps, request.subjectId, request, changes, tokens);
      plan.sealedSubject = sealSubject(deps.keyring.keys.subjectSiv, request.subjectId, request.pseudonym);
    }
    const merged = new Map(snapshot.records.map((r) => [r.requirement, r]));
    for (const record of plan.records) merged.set(record.requirement, record);
    return { plan, result: { changes, tokens, records: [...merged.values()], queued: plan.outbox?.length ?? 0 } };
  });
  const { result } = written;
  const changes = result.changes.map((change, i) => ({ ...change, eventId: written.eventIds[i] as string }));
  if (request.subjectId !== null) {
    const subjectId = request.subjectId;
    const ids = deps.keyring.eventIds;
    for (const change of changes) {
      const withdrawn = change.action === 'withdraw' && deps.events.listens('withdrawn', false);
      if (!withdrawn && !deps.events.listens('change', false)) continue;
      const payload = { ...changePayload(subjectId, change, request.source, change.at), eventId: ids.encode(change.eventId) };
      deps.events.emit('change', payload);
      if (withdrawn) deps.events.emit('withdrawn', payload);
    }
    for (const token of result.tokens) deps.events.emit('confirmation', confirmation(deps.links, subjectId, token, request.mountPath));
  }
  if (result.queued > 0) deps.outbox.kick();
  return { changes, records: result.records, tokens: result.tokens };
}
