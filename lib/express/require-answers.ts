import type { RequestHandler } from 'express';
import type { ConsentEngine } from '../core/engine';
import { ConsentError } from '../errors';
import { isPending, stateInfo } from '../state/derive';
import type { Requirement } from '../types';
import { checkMiddleware, redirectOption } from './guard';
import { middlewareOptions } from './middleware-options';
import type { ReadyGate } from './ready-gate';
import { requestCheck, type CheckRule, type MissingConsent } from './request-check';
import type { SubjectResolver } from './subject';

/** Options of `requireAnswers()`. */
export interface RequireAnswersOptions {
  /** Where to send HTML clients with questions still open (303 with `next`), as for `requireConsent()`. */
  redirect?: string | undefined;
  /** Only these requirements count: the request passes when none of them is pending. */
  only?: string[] | undefined;
}

/** The rule of the pending gate: nothing on the subject's pending list (among `only`). */
function pendingRule(engine: ConsentEngine, only: readonly string[] | null): CheckRule {
  // Looked up at each request: a version registered ahead may start, with a question to ask.
  const requirements = (now: number): readonly Requirement[] => (only ? only.map((id) => engine.registry.require(id)) : engine.registry.ordered(now));
  return {
    missing(records, _gpc, now) {
      let missing: MissingConsent[] | null = null;
      for (const requirement of requirements(now)) {
        const info = stateInfo(records.find((r) => r.requirement === requirement.id), requirement, now);
        if (!isPending(requirement, info)) continue;
        (missing ??= []).push({ id: requirement.id, state: info.state, reason: info.state, title: requirement.title, url: requirement.url });
      }
      return missing;
    },
  };
}

/**
 * `requireAnswers({ redirect?, only? })`: the pending gate. Calls `next()` when the subject has
 * nothing on its pending list (consent requirements never answered, expired or outdated), or
 * nothing among `only`; otherwise answers like the guard: 403 `consent_required` listing what
 * is pending, or 303 to `redirect` for HTML clients. Subject, GPC signal, cache and failures
 * as for `requireConsent()`.
 *
 * @throws ConsentError `invalid_argument` for bad options; `unknown_requirement` for an unknown
 *   id in `only` (after `ready()`; before, `ready()` rejects).
 */
export function createRequireAnswers(engine: ConsentEngine, gate: ReadyGate, resolver: SubjectResolver, options?: unknown): RequestHandler {
  const { redirect, only } = middlewareOptions(options, 'requireAnswers', ['redirect', 'only']);
  if (only !== undefined && !Array.isArray(only)) throw new ConsentError('invalid_argument', 'requireAnswers: "only" must be a non-empty array of requirement ids');
  const ids = only === undefined ? null : gate.ids(only, 'requireAnswers: "only"');
  const check = requestCheck(engine, gate, resolver, pendingRule(engine, ids));
  return checkMiddleware(engine, check, redirectOption(redirect, 'requireAnswers'), 'detail.answers_required');
}
