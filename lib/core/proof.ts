import { randomUUID, type KeyObject } from 'node:crypto';
import { newPersonalSalt } from '../audit/chain';
import { isCheckpointShaped, signCheckpoint, verifyCheckpoint, type Checkpoint } from '../audit/checkpoint';
import { signReceipt, type ConsentReceipt, type ReceiptDecision, type ReceiptLogProof } from '../audit/receipt';
import type { VerifyResult } from '../audit/integrity';
import type { CheckpointClaim } from '../audit/verify-log';
import { ConsentError } from '../errors';
import { INSTANT_RULE, parseInstant } from '../instant';
import { stateInfo } from '../state/derive';
import { planErase } from '../state/plan-erase';
import { replayRecord } from '../state/replay';
import type { LogHead } from '../tracker/records';
import type { Source, StateInfo } from '../types';
import type { ConsentCore } from './consent-core';
import { requireSubject } from './input';
import { inclusionOf, SubtreeCache, treeOf, type Inclusion } from './log-proof';
import { publicVerifyResult } from './public-event';
import type { ReceiptKey } from './receipt-key';
import { logRefusal, trustedRecords, withRegistered } from './trusted';
import { foldVerifiedEvents, verifiedEvents } from './subject-events';
import { verifyStore } from './verify';
import { ReferencedVersions, versionProblems } from './verify-versions';

// Waits before sealing the log again when a receipt's newest event is not in it yet: on
// PostgreSQL a seal stops before the entries that a write of another process, still under way,
// could come before; such writes end within moments (one left open holds the seal back for good,
// and the receipt goes without). No new attempt starts after `SEAL_WAIT_BUDGET_MS`.
const SEAL_WAITS_MS = [0, 25, 50, 100, 200];
const SEAL_WAIT_BUDGET_MS = 1_000;

/** The proof-of-consent methods of a `Consent` instance. */
export interface ConsentProof {
  /** A receipt of the subject's decisions, signed with the receipt key. */
  receipt(subjectId: string | number): Promise<ConsentReceipt>;
  /**
   * Checks the keyed hash chains of every subject (or of one) and, for the whole store, the
   * global log: every event logged exactly once, the log's tree and sealed head, and with
   * `checkpoint` that the log still extends it (problem `rollback` otherwise).
   * @throws ConsentError `invalid_argument` for an unknown option, or a checkpoint that is not
   *   one or whose signature does not verify with the receipts key (or with `publicKey`, the key
   *   it was signed with when that is another one).
   */
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  /**
   * Seals the global log and signs its size and root with the receipts key: a checkpoint to keep
   * where the database's owner cannot rewrite it. Emits the `checkpoint` event.
   */
  checkpoint(): Promise<Checkpoint>;
  /** Art. 17 erasure: unlinks the subject and removes personal fields; the chain still verifies. */
  erase(subjectId: string | number): Promise<{ events: number }>;
  /** The state of one requirement as it was at `time` (Date, epoch ms, or an ISO-8601 date or date-time, UTC without a zone; anything else throws `invalid_argument`). */
  stateAt(subjectId: string | number, id: string, time: Date | string | number): Promise<StateInfo>;
}

function parseTime(time: unknown): number {
  const ms = time instanceof Date ? time.getTime()
    : typeof time === 'string' ? parseInstant(time) ?? NaN
    // Epoch milliseconds a Date can hold (±8.64e15), as the other two forms are.
    : typeof time === 'number' ? new Date(time).getTime()
    : NaN;
  if (!Number.isFinite(ms)) throw new ConsentError('invalid_argument', `time must be a Date, epoch milliseconds or ${INSTANT_RULE}`);
  return ms;
}

/** What the proof methods use of the engine. */
export type ProofDeps = Pick<
  ConsentCore,
  'options' | 'registry' | 'tracker' | 'scanTracker' | 'derivedKeys' | 'eventIds' | 'ready' | 'now' | 'pseudonym' | 'forgetSubject' | 'statesFrom' | 'storedRecords' | 'storedVersions' | 'sealLog'
>;

/** Options of `consent.verify()`. */
export interface VerifyOptions {
  /** Only the chain of this subject. */
  subjectId?: string | number | undefined;
  /** A checkpoint the store must still extend (the whole store only). */
  checkpoint?: Checkpoint | undefined;
  /** The key `checkpoint` was signed with (SPKI PEM or a KeyObject), when not the current receipts key. */
  publicKey?: string | KeyObject | undefined;
}

const VERIFY_OPTIONS = ['subjectId', 'checkpoint', 'publicKey'];

/** @throws ConsentError `invalid_argument` for options that are not an object, or an unknown key. */
function verifyOptions(value: unknown): VerifyOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConsentError('invalid_argument', 'verify() takes an options object { subjectId?, checkpoint?, publicKey? }');
  const unknown = Object.keys(value).filter((key) => !VERIFY_OPTIONS.includes(key));
  if (unknown.length > 0) throw new ConsentError('invalid_argument', `verify(): unknown option ${unknown.map((k) => `"${k}"`).join(', ')} (${VERIFY_OPTIONS.join(', ')})`);
  return value;
}

/** The checkpoint's claim, once its shape and signature check. */
function checkpointClaim(value: unknown, publicKey: string | KeyObject): CheckpointClaim {
  if (!isCheckpointShaped(value)) {
    throw new ConsentError('invalid_argument', 'checkpoint must be a checkpoint made by consent.checkpoint() (version, size, root, issuedAt, controller, proof)');
  }
  // A claim nobody signed proves nothing: an edited size and root would pass any store.
  if (!verifyCheckpoint(value, publicKey)) {
    throw new ConsentError(
      'invalid_argument',
      'the checkpoint\'s signature does not verify with the receipts key: it was changed after it was signed, or signed with another key (pass that key as publicKey)',
    );
  }
  return { size: value.size, root: value.root };
}

/**
 * Erases a subject, recording who asked (`admin` routes pass their source and actor). The
 * engine's tracker forgets the subject's cached state as the erasure ends.
 */
export async function eraseSubject(
  engine: Pick<ConsentCore, 'options' | 'tracker' | 'derivedKeys' | 'ready' | 'now' | 'pseudonym' | 'forgetSubject'>,
  subjectId: unknown,
  by: { source?: Source; actor?: string | null } = {},
): Promise<{ events: number }> {
  const subject = requireSubject(subjectId);
  await engine.ready();
  const pseudonym = engine.pseudonym(subject);
  const key = engine.derivedKeys.chain;
  const actor = by.actor ?? null;
  const ctx = { now: engine.now(), source: by.source ?? 'app', actor, personalSalt: newPersonalSalt({ actor, note: null, data: null, ip: null, userAgent: null }) };
  const erased = await engine.tracker
    .erase(pseudonym, (snapshot) => planErase(snapshot, ctx, key))
    .catch((error: unknown) => logRefusal(engine.options.logger, error));
  // Not even memory keeps the id: the guard derives the pseudonym again if it comes back.
  engine.forgetSubject(subject);
  return { events: erased ?? 0 };
}

/**
 * Verifies the whole store (sealing the log first: every chain, head, link and record, the global
 * log, and the stored requirement versions of `requirementIds` or, when the tracker can list
 * them, all of them), or the chain now linked to `pseudonym`; problems name public event ids.
 */
export async function verifyFor(
  engine: Pick<ConsentCore, 'tracker' | 'scanTracker' | 'derivedKeys' | 'eventIds' | 'sealLog'>,
  pseudonym?: string,
  requirementIds: string[] = [],
  checkpoint?: CheckpointClaim,
): Promise<VerifyResult> {
  const keys = engine.derivedKeys;
  if (pseudonym !== undefined) return publicVerifyResult(await verifyStore(engine.tracker, keys, pseudonym), engine.eventIds);
  // A head that fails its check is reported by the verification itself.
  await engine.sealLog().catch(() => undefined);
  // Read with the deadline of store-wide work: a page a busy store answers late is not a failure.
  const tracker = engine.scanTracker;
  const referenced = new ReferencedVersions();
  const result = await verifyStore(tracker, keys, undefined, { checkpoint, referenced });
  const versions = tracker.allRequirementVersions
    ? await tracker.allRequirementVersions()
    : await tracker.requirementVersions([...new Set([...requirementIds, ...referenced.ids])]);
  const problems = [...result.problems, ...versionProblems(keys.chain, versions), ...referenced.missingFrom(versions)];
  return publicVerifyResult({ ...result, ok: problems.length === 0, problems }, engine.eventIds);
}

/**
 * The locale each (requirement, version) was last decided in, from the subject's verified
 * events, folded page by page: a receipt holds a page of a long history at a time, not all of it.
 */
function shownLocales(engine: ProofDeps, pseudonym: string): Promise<Map<string, string>> {
  return foldVerifiedEvents(engine.tracker, engine.derivedKeys.chain, engine.options.logger, pseudonym, () => new Map<string, string>(), (out, event) => {
    if (event.locale) out.set(`${event.requirement}\n${String(event.version)}`, event.locale);
  });
}

/**
 * The proof methods of a consent instance. `madeCheckpoint` sees every checkpoint made (by
 * `checkpoint()` and for receipts).
 */
export function proofMethods(engine: ProofDeps, receiptKey: ReceiptKey, madeCheckpoint: (checkpoint: Checkpoint) => void = () => {}): ConsentProof {
  const { tracker, registry } = engine;
  // The log's sealed subtrees that receipts' audit paths share (see SubtreeCache).
  const subtrees = new SubtreeCache();
  const checkpointOf = (head: LogHead | null): Checkpoint => {
    const checkpoint = signCheckpoint(
      { version: 1, ...treeOf(head), issuedAt: new Date(engine.now()).toISOString(), controller: receiptKey.controller },
      receiptKey.signingKey,
    );
    madeCheckpoint(checkpoint);
    return checkpoint;
  };
  const logProofOf = (id: string, inclusion: Inclusion, head: LogHead | null): ReceiptLogProof => ({
    eventId: engine.eventIds.encode(id),
    leafIndex: inclusion.leafIndex,
    leafHash: inclusion.leafHash.toString('hex'),
    path: inclusion.path.map((p) => p.toString('hex')),
    checkpoint: checkpointOf(head),
  });
  /**
   * Where the subject's newest event stands in the sealed log, with a checkpoint; null without
   * events, or when it is still not sealed after the waits of `SEAL_WAITS_MS`.
   */
  const logProof = async (pseudonym: string): Promise<ReceiptLogProof | null> => {
    const [chainHead] = await tracker.heads({ pseudonym, limit: 1 });
    if (chainHead?.id === null || chainHead === undefined) return null;
    const started = Date.now();
    for (const wait of SEAL_WAITS_MS) {
      if (wait > 0 && Date.now() - started + wait > SEAL_WAIT_BUDGET_MS) break;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const head = await engine.sealLog();
      const inclusion = await inclusionOf(tracker, head, chainHead.id, chainHead.hash, subtrees);
      if (inclusion !== null) return logProofOf(chainHead.id, inclusion, head);
    }
    return null;
  };
  return {
    async receipt(subjectId) {
      const subject = requireSubject(subjectId);
      await engine.ready();
      const pseudonym = engine.pseudonym(subject);
      const records = await engine.storedRecords(pseudonym);
      const states = engine.statesFrom(records);
      const decided = registry.list().filter((r) => (states[r.id] as StateInfo).version !== null);
      // A decided version the application registers must still be stored: its text and basis go on the receipt.
      const registered = registry.allVersions().filter((r) => states[r.id]?.version === r.version);
      const versions = withRegistered(engine.options.logger, registered, await engine.storedVersions(decided.map((r) => r.id)));
      const locales = decided.length === 0 ? new Map<string, string>() : await shownLocales(engine, pseudonym);
      const decisions: ReceiptDecision[] = decided.map((requirement) => {
        const info = states[requirement.id] as StateInfo;
        const stored = versions.find((v) => v.id === requirement.id && v.version === info.version);
        return {
          requirement: requirement.id,
          version: info.version as number,
          state: info.state,
          // A version this store never held (imported from another system) has no text or basis
          // here to vouch for: the receipt says so rather than cite the current version's.
          lawfulBasis: stored?.lawfulBasis ?? null,
          decidedAt: info.decidedAt,
          expiresAt: info.expiresAt,
          textHash: stored?.textHash ?? null,
          locale: locales.get(`${requirement.id}\n${String(info.version)}`) ?? (stored === undefined ? null : stored.texts?.defaultLocale ?? requirement.defaultLocale),
        };
      });
      const body = {
        version: 1 as const,
        receiptId: randomUUID(),
        issuedAt: new Date(engine.now()).toISOString(),
        controller: receiptKey.controller,
        subject: pseudonym,
        decisions,
        log: await logProof(pseudonym),
      };
      return signReceipt(body, receiptKey.signingKey);
    },

    async verify(given) {
      const options = verifyOptions(given);
      const subject = options.subjectId === undefined ? undefined : requireSubject(options.subjectId);
      if (subject !== undefined && options.checkpoint !== undefined) throw new ConsentError('invalid_argument', 'a checkpoint is checked against the whole store: leave subjectId out');
      if (options.checkpoint === undefined && options.publicKey !== undefined) throw new ConsentError('invalid_argument', 'publicKey is the key of a checkpoint: pass the checkpoint too');
      await engine.ready();
      const claim = options.checkpoint === undefined ? undefined : checkpointClaim(options.checkpoint, options.publicKey ?? receiptKey.publicKey);
      return verifyFor(engine, subject === undefined ? undefined : engine.pseudonym(subject), registry.list().map((r) => r.id), claim);
    },

    async checkpoint() {
      await engine.ready();
      return checkpointOf(await engine.sealLog());
    },

    erase: (subjectId) => eraseSubject(engine, subjectId),

    async stateAt(subjectId, id, time) {
      const subject = requireSubject(subjectId);
      if (typeof id !== 'string') throw new ConsentError('invalid_argument', 'the requirement id must be a string');
      const at = parseTime(time);
      await engine.ready();
      const requirement = registry.require(id);
      const pseudonym = engine.pseudonym(subject);
      // Every registered version of it must still be stored: which was current then depends on them all.
      const versions = withRegistered(engine.options.logger, registry.allVersions().filter((r) => r.id === id), await engine.storedVersions([id]));
      // The version that was current then decides whether an old grant had become outdated.
      // A version is current from when it was stored, or from its start when registered ahead.
      // Before the first was stored (decisions imported with their own, earlier times), the
      // first one counts: a version stored later had not been written yet.
      const started = versions.filter((v) => Math.max(v.createdAt, v.effectiveFrom ?? -Infinity) <= at);
      const current = started.length > 0
        ? started.reduce((max, v) => Math.max(max, v.version), 0)
        : versions.reduce((min, v) => Math.min(min, v.version), Infinity);
      const events = await verifiedEvents(tracker, engine.derivedKeys.chain, engine.options.logger, pseudonym, id);
      // The current record holds the lifetimes its grant and request were given when made.
      const stored = trustedRecords(engine.derivedKeys.chain, engine.options.logger, pseudonym, await tracker.current(pseudonym)).find((r) => r.requirement === id);
      const record = replayRecord(events, requirement, at, engine.options.confirm.ttlMs, stored);
      return stateInfo(record, { ...requirement, version: Number.isFinite(current) ? current : requirement.version }, at);
    },
  };
}
