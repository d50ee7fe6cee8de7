import { randomUUID } from 'node:crypto';
import { signReceipt, type ConsentReceipt, type ReceiptDecision } from '../audit/receipt';
import type { VerifyResult } from '../audit/verify-chain';
import { ConsentError } from '../errors';
import { textHash } from '../registry/text';
import { stateInfo } from '../state/derive';
import { planErase } from '../state/plan-erase';
import { replayRecord } from '../state/replay';
import type { Source, StateInfo } from '../types';
import type { ConsentCore } from './consent-core';
import { requireSubject } from './input';
import { publicVerifyResult } from './public-event';
import type { ReceiptKey } from './receipt-key';
import { logRefusal } from './trusted';
import { verifiedEvents } from './subject-events';
import type { StoredEvent } from '../tracker/records';
import { versionProblems, verifyStore } from './verify';

/** The proof-of-consent methods of a `Consent` instance. */
export interface ConsentProof {
  /** A receipt of the subject's decisions, signed with the receipt key. */
  receipt(subjectId: string | number): Promise<ConsentReceipt>;
  /** Checks the keyed hash chains of every subject, or of one. */
  verify(options?: { subjectId?: string | number }): Promise<VerifyResult>;
  /** Art. 17 erasure: unlinks the subject and removes personal fields; the chain still verifies. */
  erase(subjectId: string | number): Promise<{ events: number }>;
  /** The state of one requirement as it was at `time` (Date, ISO string or epoch ms). */
  stateAt(subjectId: string | number, id: string, time: Date | string | number): Promise<StateInfo>;
}

function parseTime(time: unknown): number {
  const ms = time instanceof Date ? time.getTime()
    : typeof time === 'string' ? Date.parse(time)
    : typeof time === 'number' ? time
    : NaN;
  if (!Number.isFinite(ms)) throw new ConsentError('invalid_argument', 'time must be a Date, an ISO-8601 string or epoch milliseconds');
  return ms;
}

/** What the proof methods use of the engine. */
export type ProofDeps = Pick<
  ConsentCore,
  'options' | 'registry' | 'tracker' | 'derivedKeys' | 'eventIds' | 'ready' | 'now' | 'pseudonym' | 'statesFrom' | 'storedRecords' | 'storedVersions'
>;

/**
 * Erases a subject, recording who asked (`admin` routes pass their source and actor). The
 * engine's tracker forgets the subject's cached state as the erasure ends.
 */
export async function eraseSubject(
  engine: Pick<ConsentCore, 'options' | 'tracker' | 'derivedKeys' | 'ready' | 'now' | 'pseudonym'>,
  subjectId: unknown,
  by: { source?: Source; actor?: string | null } = {},
): Promise<{ events: number }> {
  const subject = requireSubject(subjectId);
  await engine.ready();
  const pseudonym = engine.pseudonym(subject);
  const key = engine.derivedKeys.chain;
  const ctx = { now: engine.now(), source: by.source ?? 'app', actor: by.actor ?? null };
  const erased = await engine.tracker
    .erase(pseudonym, (snapshot) => planErase(snapshot, ctx, key))
    .catch((error: unknown) => logRefusal(engine.options.logger, error));
  return { events: erased ?? 0 };
}

/**
 * Verifies the whole store (every chain, head, link and record, the ledger, and the stored
 * requirement versions of `requirementIds` or, when the tracker can list them, all of them), or
 * the chain now linked to `pseudonym`; problems name public event ids.
 */
export async function verifyFor(
  engine: Pick<ConsentCore, 'tracker' | 'derivedKeys' | 'eventIds'>,
  pseudonym?: string,
  requirementIds: string[] = [],
): Promise<VerifyResult> {
  const key = engine.derivedKeys.chain;
  const result = await verifyStore(engine.tracker, key, pseudonym);
  if (pseudonym === undefined) {
    const { tracker } = engine;
    const versions = tracker.allRequirementVersions ? await tracker.allRequirementVersions() : await tracker.requirementVersions(requirementIds);
    const problems = [...result.problems, ...versionProblems(key, versions)];
    return publicVerifyResult({ ...result, ok: problems.length === 0, problems }, engine.eventIds);
  }
  return publicVerifyResult(result, engine.eventIds);
}

/** The locale each (requirement, version) was last decided in, from the subject's verified events. */
function shownLocales(events: readonly StoredEvent[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const event of events) if (event.locale) out.set(`${event.requirement}\n${String(event.version)}`, event.locale);
  return out;
}

export function proofMethods(engine: ProofDeps, receiptKey: ReceiptKey): ConsentProof {
  const { tracker, registry } = engine;
  return {
    async receipt(subjectId) {
      const subject = requireSubject(subjectId);
      await engine.ready();
      const pseudonym = engine.pseudonym(subject);
      const records = await engine.storedRecords(pseudonym);
      const states = engine.statesFrom(records);
      const decided = registry.list().filter((r) => (states[r.id] as StateInfo).version !== null);
      const versions = await engine.storedVersions(decided.map((r) => r.id));
      const locales = decided.length === 0 ? new Map<string, string>() : shownLocales(await verifiedEvents(tracker, engine.derivedKeys.chain, engine.options.logger, pseudonym));
      const decisions: ReceiptDecision[] = decided.map((requirement) => {
        const info = states[requirement.id] as StateInfo;
        const stored = versions.find((v) => v.id === requirement.id && v.version === info.version);
        return {
          requirement: requirement.id,
          version: info.version as number,
          state: info.state,
          lawfulBasis: stored?.lawfulBasis ?? requirement.lawfulBasis,
          decidedAt: info.decidedAt,
          expiresAt: info.expiresAt,
          textHash: stored?.textHash ?? textHash(requirement),
          locale: locales.get(`${requirement.id}\n${String(info.version)}`) ?? stored?.texts?.defaultLocale ?? requirement.defaultLocale,
        };
      });
      const body = {
        version: 1 as const,
        receiptId: randomUUID(),
        issuedAt: new Date(engine.now()).toISOString(),
        controller: receiptKey.controller,
        subject: pseudonym,
        decisions,
      };
      return signReceipt(body, receiptKey.signingKey);
    },

    async verify(options = {}) {
      const subject = options.subjectId === undefined ? undefined : requireSubject(options.subjectId);
      await engine.ready();
      return verifyFor(engine, subject === undefined ? undefined : engine.pseudonym(subject), registry.list().map((r) => r.id));
    },

    erase: (subjectId) => eraseSubject(engine, subjectId),

    async stateAt(subjectId, id, time) {
      const subject = requireSubject(subjectId);
      if (typeof id !== 'string') throw new ConsentError('invalid_argument', 'the requirement id must be a string');
      const at = parseTime(time);
      await engine.ready();
      const requirement = registry.require(id);
      const pseudonym = engine.pseudonym(subject);
      const versions = await engine.storedVersions([id]);
      // The version that was current then decides whether an old grant had become outdated.
      // A version is current from when it was stored, or from its start when registered ahead.
      const current = versions.filter((v) => Math.max(v.createdAt, v.effectiveFrom ?? -Infinity) <= at).reduce((max, v) => Math.max(max, v.version), 0);
      const events = await verifiedEvents(tracker, engine.derivedKeys.chain, engine.options.logger, pseudonym, id);
      const record = replayRecord(events, requirement, at, engine.options.confirm.ttlMs);
      return stateInfo(record, { ...requirement, version: current || requirement.version }, at);
    },
  };
}
