import type { Change } from '../state/plan';
import type { CurrentRecord, OutboxEntry, SubjectSnapshot, WritePlan } from '../tracker/records';
import type { Source } from '../types';
import type { ConsentEngine, IssuedToken } from './engine';
import { changePayload, type ConfirmationPayload } from './events';
import { storeCall } from './store-call';

/** A change as committed: with the stored id of its event and the batch time. */
export type CommittedChange = Change & { eventId: string; at: number };

/** One write of the engine: how to plan it from the snapshot, and who it is about. */
export interface CommitRequest {
  /** The real subject id, for event payloads; null when only the pseudonym is known (sweep). */
  subjectId: string | null;
  pseudonym: string;
  now: number;
  source: Source;
  /** Tokens minted for double opt-in grants; kept only for requests the plan records. */
  tokens?: IssuedToken[];
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

function confirmation(engine: ConsentEngine, subjectId: string, token: IssuedToken): ConfirmationPayload {
  const { requirement, version, expiresAt } = token;
  return { subjectId, requirement, version, token: token.token, url: engine.confirmUrl(token.token), expiresAt: new Date(expiresAt).toISOString() };
}

function outboxFor(engine: ConsentEngine, subjectId: string, request: CommitRequest, changes: Change[], tokens: IssuedToken[]): OutboxEntry[] {
  const { events } = engine;
  const key = engine.derivedKeys.outbox;
  // Outbox times are operational (leases, retries): the wall clock, not the `now` option.
  const available = Date.now();
  const entries = changes.flatMap((change, index) => {
    const payload = changePayload(subjectId, change, request.source, request.now);
    const out = events.entries(key, 'change', payload, index, available);
    return change.action === 'withdraw' ? [...out, ...events.entries(key, 'withdrawn', payload, index, available)] : out;
  });
  for (const token of tokens) entries.push(...events.entries(key, 'confirmation', confirmation(engine, subjectId, token), null, available));
  return entries;
}

/**
 * Runs one write through the tracker: the plan, and in the same transaction the outbox entries
 * of durable handlers. After the commit: invalidates the cache, emits in-process events and
 * wakes the outbox poller.
 */
export async function commitWrite(engine: ConsentEngine, request: CommitRequest): Promise<CommitResult> {
  const write = () =>
    engine.tracker.write(request.pseudonym, (snapshot) => {
      const { plan, changes } = request.plan(snapshot);
      const tokens = issuedFor(request.tokens ?? [], changes);
      if (request.subjectId !== null) plan.outbox = outboxFor(engine, request.subjectId, request, changes, tokens);
      const merged = new Map(snapshot.records.map((r) => [r.requirement, r]));
      for (const record of plan.records) merged.set(record.requirement, record);
      return { plan, result: { changes, tokens, records: [...merged.values()], queued: plan.outbox?.length ?? 0 } };
    });
  let call: ReturnType<typeof write> | undefined;
  let written: Awaited<ReturnType<typeof write>>;
  try {
    written = await storeCall(engine.options.storeTimeoutMs, 'write', () => (call = write()));
  } catch (error) {
    // A write that missed its deadline may still commit afterwards; a read made meanwhile
    // would have cached the old state, so forget the subject again once the write settles.
    void call?.then(() => engine.cache?.invalidate(request.pseudonym), () => undefined);
    throw error;
  } finally {
    engine.cache?.invalidate(request.pseudonym);
  }
  const { result } = written;
  const changes = result.changes.map((change, i) => ({ ...change, eventId: written.eventIds[i] as string, at: request.now }));
  if (request.subjectId !== null) {
    const subjectId = request.subjectId;
    for (const change of changes) {
      const payload = { ...changePayload(subjectId, change, request.source, request.now), eventId: engine.eventIds.encode(change.eventId) };
      engine.events.emit('change', payload);
      if (change.action === 'withdraw') engine.events.emit('withdrawn', payload);
    }
    for (const token of result.tokens) engine.events.emit('confirmation', confirmation(engine, subjectId, token));
  }
  if (result.queued > 0) engine.outbox.kick();
  return { changes, records: result.records, tokens: result.tokens };
}
