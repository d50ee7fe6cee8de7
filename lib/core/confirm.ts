import { sameText } from '../audit/keys';
import { ConsentError } from '../errors';
import { planBatch } from '../state/plan';
import { liveRequest } from '../state/derive';
import type { CurrentRecord } from '../tracker/records';
import type { Requirement, StateInfo } from '../types';
import { batchContext } from './batch-context';
import type { ConsentCore } from './consent-core';
import { openToken } from './tokens';
import type { WriteContext } from './write-types';

/** What `GET /confirm/:token` shows: what confirming will grant, and until when it can. */
export interface TokenPreview {
  requirement: Requirement;
  /** ISO-8601 UTC. */
  expiresAt: string;
}

/** What confirmation uses of the engine. */
export type ConfirmDeps = Pick<
  ConsentCore,
  'registry' | 'tracker' | 'derivedKeys' | 'ready' | 'now' | 'pseudonym' | 'tokenHash' | 'statesFrom' | 'commit' | 'records' | 'storedRecords'
>;

/** The error for a token that cannot be used: unknown, used, superseded or cancelled (404). */
export const invalidToken = (): ConsentError =>
  new ConsentError('token_invalid', 'this confirmation link is unknown, already used, replaced by a newer one or cancelled');

/**
 * Checks that a pending record holds the token (its hash, compared in constant time) for a
 * requirement still registered: the link is known (404 otherwise).
 */
function matchingRequest(engine: Pick<ConsentCore, 'registry'>, record: CurrentRecord | undefined, hash: string): CurrentRecord {
  if (!record?.pendingToken || !sameText(hash, record.pendingToken) || !engine.registry.has(record.requirement)) throw invalidToken();
  return record;
}

/** Checks that a known request can still be confirmed: not expired (410), for the current version (409). */
function usableRequest(engine: Pick<ConsentCore, 'registry'>, record: CurrentRecord, now: number): Requirement {
  if (record.pendingExpiresAt === null || now >= record.pendingExpiresAt) {
    throw new ConsentError('token_expired', 'this confirmation link has expired: ask again to receive a new one');
  }
  const requirement = engine.registry.require(record.requirement);
  if (record.pendingVersion !== requirement.version) {
    throw new ConsentError('version_mismatch', 'the text changed since this link was sent: show the current text and ask again', {
      extensions: { requirements: [{ id: requirement.id, version: requirement.version }] },
    });
  }
  return requirement;
}

/**
 * Checks a pending record against a token hash (`matchingRequest`, then `usableRequest`). Runs
 * before the write and again inside it, on the locked snapshot.
 */
function checkPending(engine: Pick<ConsentCore, 'registry'>, record: CurrentRecord | undefined, hash: string, now: number): Requirement {
  return usableRequest(engine, matchingRequest(engine, record, hash), now);
}

/** How a route confirms: its own check of the request, and the locale its page shows the text in. */
export interface ConfirmHow {
  /** Runs once the token is known, before its state is judged and anything is recorded; what it throws is thrown. */
  checkInput?: () => void;
  /** The locale the confirmation shows the requirement's text in, recorded on the event (null without). */
  locale?: (requirement: Requirement) => string;
}

async function lookup(engine: ConfirmDeps, token: unknown) {
  await engine.ready();
  // The token names its subject (encrypted): its record is found among the subject's records as
  // sealed with its head, not through an index of tokens that no seal covers.
  const subjectId = openToken(engine.derivedKeys.tokenSubject, token);
  if (subjectId === null) throw invalidToken();
  const hash = engine.tokenHash(token as string);
  const pseudonym = engine.pseudonym(subjectId);
  const record = (await engine.storedRecords(pseudonym)).find((r) => r.pendingToken !== null && sameText(hash, r.pendingToken));
  return { subjectId, pseudonym, hash, record: matchingRequest(engine, record, hash) };
}

/**
 * Describes a confirmation token without changing anything (link scanners and prefetchers
 * open links too).
 * @throws ConsentError `token_invalid` (404), `token_expired` (410), `version_mismatch` (409).
 */
export async function previewToken(engine: ConfirmDeps, token: unknown): Promise<TokenPreview> {
  const { record } = await lookup(engine, token);
  const requirement = usableRequest(engine, record, engine.now());
  return { requirement, expiresAt: new Date(record.pendingExpiresAt as number).toISOString() };
}

/**
 * Confirms a double opt-in request: records `confirm` (source `confirm`), making the
 * requirement `granted`. Single use: the write re-checks the token on the locked snapshot,
 * so of two concurrent confirmations one succeeds and the other gets `token_invalid`.
 * `how` carries a route's check of its body and the locale its page shows (`ConfirmHow`).
 * @throws ConsentError as `previewToken`.
 */
export async function confirmToken(engine: ConfirmDeps, token: unknown, ctx: WriteContext = {}, how: ConfirmHow = {}): Promise<StateInfo> {
  const { subjectId, pseudonym, hash, record } = await lookup(engine, token);
  // The rest of the request (a route's body), once the token is known: before its state is
  // judged (the order of the checks: 404, 400, then 410 or 409) and anything is recorded.
  how.checkInput?.();
  const requirement = usableRequest(engine, record, engine.now());
  const locale = how.locale?.(requirement) ?? null;
  const now = engine.now();
  const chainKey = engine.derivedKeys.chain;
  const batch = batchContext(now, 'confirm', ctx);
  const result = await engine.commit({
    subjectId,
    pseudonym,
    now,
    source: 'confirm',
    plan: (snapshot) => {
      checkPending(engine, snapshot.records.find((r) => r.requirement === requirement.id), hash, now);
      return planBatch(snapshot, [{ requirement, decision: 'granted', locale }], batch, chainKey);
    },
  });
  return engine.statesFrom(result.records, batch.gpc)[requirement.id] as StateInfo;
}

/** What an unusable link of this library had already confirmed, for the person who opens it again. */
export interface UsedLink {
  /** The confirmed requirements (double opt-in, now granted), in registration order. */
  requirements: Requirement[];
}

/**
 * For a link that is no longer pending: whether its subject's confirmation went through. The
 * store keeps no used token, but the token itself names its subject (sealed, so only a link this
 * library issued gets an answer). When none of the subject's double opt-in requirements awaits
 * confirmation or holds an unexpired request (one for an older text) and some are granted, the
 * link was used (or replaced by one that was): those are what it confirmed. Otherwise null: the
 * link may have been replaced by a newer, open one.
 */
export async function usedLink(engine: ConfirmDeps, token: unknown): Promise<UsedLink | null> {
  await engine.ready();
  const subjectId = openToken(engine.derivedKeys.tokenSubject, token);
  if (subjectId === null) return null;
  const records = await engine.records(engine.pseudonym(subjectId));
  const states = engine.statesFrom(records);
  const now = engine.now();
  const confirmable = engine.registry.list().filter((r) => r.doubleOptIn);
  // A request still held, also one for an older text (no longer pending, never confirmed).
  const held = (id: string) => records.some((r) => r.requirement === id && liveRequest(r, now));
  if (confirmable.some((r) => states[r.id]?.state === 'pending' || held(r.id))) return null;
  const requirements = confirmable.filter((r) => states[r.id]?.state === 'granted');
  return requirements.length > 0 ? { requirements } : null;
}
