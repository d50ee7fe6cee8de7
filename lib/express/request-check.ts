import type { Request } from 'express';
import type { ConsentEngine } from '../core/engine';
import type { CacheLink } from '../core/state-cache';
import { applyGpc } from '../core/gpc';
import type { CurrentRecord } from '../tracker/records';
import type { State } from '../types';
import { hasGpc, writeContext } from './network';
import type { ReadyGate } from './ready-gate';
import { isThenable } from './thenable';
import { hookThrew, type SubjectResolver } from './subject';

/** One entry of `missing` in a `consent_required` problem. */
export interface MissingConsent {
  id: string;
  state: State;
  /** The state, or `gpc` when only the `Sec-GPC: 1` signal refuses it. */
  reason: State | 'gpc';
  title: string;
  url: string | null;
}

/** What a check found: null when the request may go on, else what is missing. */
export type Verdict = MissingConsent[] | null;

/** What a check asks of the subject's records. */
export interface CheckRule {
  /** What is missing from `records` at `now` for a request with (`gpc`) or without the signal. */
  missing(records: CurrentRecord[], gpc: boolean, now: number): Verdict;
  /**
   * The cache's answer without deriving a state: true when the cached subject passes, undefined
   * when the cache cannot tell (then `missing` decides).
   */
  cachedPass?(link: CacheLink, now: number): boolean | undefined;
}


/**
 * The one way a request is checked against the subject's records, shared by `requireConsent()`,
 * `requireAnswers()` and `allows()`: the subject from the `subject` hook, the GPC signal
 * recorded first, the cache, and the store (fail closed: a read that fails rejects).
 *
 * Synchronous on the hot path (ready, a synchronous hook, no `Sec-GPC: 1`, a cached subject):
 * it returns the verdict itself, without a promise; otherwise a promise of it.
 *
 * @throws ConsentError `no_subject`, `invalid_subject` or `internal_error` (the hook), at once
 *   or as a rejection; `store_unavailable` as a rejection.
 */
export function requestCheck(engine: ConsentEngine, gate: ReadyGate, resolver: SubjectResolver, rule: CheckRule): (req: Request) => Verdict | Promise<Verdict> {
  const subjectHook = engine.options.subject;
  const linkOf = (id: string): CacheLink => engine.subjectLink(id);

  async function slowPath(req: Request, value: unknown): Promise<Verdict> {
    const { id } = await resolver.settle(req, value);
    await gate.serving();
    // A visitor without a cookie has decided nothing yet.
    if (id === null) return rule.missing([], hasGpc(req), engine.now());
    // The signal is recorded before the answer (a refusal per gpc requirement, once).
    await applyGpc(engine, id, writeContext(req, engine.options));
    const records = await engine.records(engine.pseudonym(id));
    return rule.missing(records, hasGpc(req), engine.now());
  }

  return (req) => {
    let value: unknown;
    try {
      value = subjectHook(req);
    } catch (error) {
      throw hookThrew(error);
    }
    // A request carrying `Sec-GPC: 1` may have a refusal to record first: never the fast path.
    if (!gate.isServing || isThenable(value) || hasGpc(req)) return slowPath(req, value);
    const now = engine.now();
    const link = resolver.linkFromValue(req, value, now, linkOf);
    // A visitor without a cookie has decided nothing yet.
    if (link === null) return rule.missing([], false, now);
    if (rule.cachedPass?.(link, now) === true) return null;
    const cached = engine.cachedRecords(link.key, now);
    if (cached) return rule.missing(cached, false, now);
    return engine.records(link.key).then((records) => rule.missing(records, false, engine.now()));
  };
}
