import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ConsentEngine } from '../core/engine';
import type { CacheLink } from '../core/state-cache';
import { applyGpc } from '../core/gpc';
import { localTarget } from '../core/local-url';
import { ConsentError } from '../errors';
import { allowedUnder, isAllowedNow, stateInfo } from '../state/derive';
import type { CurrentRecord } from '../tracker/records';
import type { Requirement, State } from '../types';
import { middlewareOptions } from './middleware-options';
import { hasGpc, writeContext } from './network';
import { problem, problemWords, sendProblem, toProblem } from './problem';
import { localeOf, textIn } from '../i18n/localize';
import { acceptedRanges } from '../i18n/negotiate';
import type { ReadyGate } from './ready-gate';
import { hookThrew, type SubjectResolver } from './subject';

/** Options of `requireConsent()`. */
export interface GuardOptions {
  /**
   * Where to send HTML clients that lack consent (303 with `?next=` or `&next=` and the
   * encoded path and query of the request, never another origin). JSON clients still get 403
   * `consent_required`.
   */
  redirect?: string;
}

/** One entry of `missing` in a `consent_required` problem. */
export interface MissingConsent {
  id: string;
  state: State;
  /** The state, or `gpc` when only the `Sec-GPC: 1` signal refuses it. */
  reason: State | 'gpc';
  title: string;
  url: string | null;
}

function parseGuardOptions(options: unknown): GuardOptions {
  const { redirect } = middlewareOptions(options, 'requireConsent', ['redirect']);
  if (redirect !== undefined && (typeof redirect !== 'string' || redirect === '')) {
    throw new ConsentError('invalid_argument', 'requireConsent: "redirect" must be a non-empty URL or path');
  }
  return { redirect };
}

// `next` is always a local path: an absolute-form request target keeps only its path and query.
function redirectTarget(base: string, req: Request): string {
  return `${base}${base.includes('?') ? '&' : '?'}next=${encodeURIComponent(localTarget(req.originalUrl))}`;
}

const findRecord = (records: CurrentRecord[], id: string): CurrentRecord | undefined => {
  for (const record of records) if (record.requirement === id) return record;
  return undefined;
};

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';

/**
 * `requireConsent(ids, options)`: calls `next()` only when every listed requirement is allowed
 * for the request's subject. It answers by itself otherwise, and fails closed: a state it
 * cannot read is a 503, never a pass.
 *
 * The hot path (ready, a synchronous subject hook, no `Sec-GPC: 1`, a cached subject) runs
 * without a promise: it compares `now` with the allowed windows the cache entry keeps for the
 * listed requirements (`allowedWindow`), and derives states and builds a `StateInfo` only for
 * a refusal. A request with the signal first records it (`applyGpc`), as the router does.
 */
export function createGuard(engine: ConsentEngine, gate: ReadyGate, resolver: SubjectResolver, input: unknown, options?: unknown): RequestHandler {
  const ids = gate.ids(input, 'requireConsent');
  const { redirect } = parseGuardOptions(options);
  const { logger, subject: subjectHook } = engine.options;
  // Resolved on first use, after ready(): the ids are known and the registry sealed then. The
  // requirements themselves are looked up each time: a version registered ahead may start.
  let indexes: number[] | null = null;
  const listedRequirements = (): Requirement[] => ids.map((id) => engine.registry.require(id));
  const listedIndexes = (): number[] => {
    const ordered = engine.registry.ordered();
    return (indexes ??= ids.map((id) => ordered.findIndex((requirement) => requirement.id === id)));
  };

  function missingFrom(records: CurrentRecord[], gpc: boolean, now: number, ranges: readonly string[]): MissingConsent[] | null {
    let missing: MissingConsent[] | null = null;
    for (const requirement of listedRequirements()) {
      const record = findRecord(records, requirement.id);
      if (isAllowedNow(record, requirement, now, gpc)) continue;
      const { state } = stateInfo(record, requirement, now, gpc);
      const reason = allowedUnder(requirement.lawfulBasis, state) ? 'gpc' : state;
      const { title, url } = textIn(requirement, localeOf(requirement, ranges));
      (missing ??= []).push({ id: requirement.id, state, reason, title, url });
    }
    return missing;
  }

  function decide(req: Request, res: Response, next: NextFunction, records: CurrentRecord[], now = engine.now()): void {
    const missing = missingFrom(records, hasGpc(req), now, acceptedRanges(req.get('accept-language')));
    if (missing === null) { next(); return; }
    res.vary('Accept');
    res.set('Cache-Control', 'no-store');
    if (redirect !== undefined && req.accepts(['json', 'html']) === 'html') {
      res.redirect(303, redirectTarget(redirect, req));
      return;
    }
    const words = problemWords(req, engine.options.messages);
    const detail = words.catalog.text(words.locale, 'detail.consent_required', { titles: missing.map((m) => `“${m.title}”`).join(', ') });
    sendProblem(res, problem('consent_required', 403, detail, req.originalUrl, { missing }), words);
  }

  // Guards sit on host routes: answer here rather than hand the error to the host's handler.
  const fail = (req: Request, res: Response, error: unknown): void => {
    sendProblem(res, toProblem(error, req.originalUrl, logger), problemWords(req, engine.options.messages));
  };

  async function slowPath(req: Request, res: Response, next: NextFunction, value: unknown): Promise<void> {
    const { id } = await resolver.settle(req, value);
    await gate.serving();
    // A visitor without a cookie has decided nothing yet.
    if (id === null) { decide(req, res, next, []); return; }
    // The signal is recorded before the answer (a refusal per gpc requirement, once).
    await applyGpc(engine, id, writeContext(req, engine.options));
    const records = await engine.records(engine.pseudonym(id));
    decide(req, res, next, records);
  }

  return (req, res, next) => {
    let value: unknown;
    try {
      value = subjectHook(req);
    } catch (error) {
      fail(req, res, hookThrew(error));
      return;
    }
    // A request carrying `Sec-GPC: 1` may have a refusal to record first: never the fast path.
    if (!gate.isServing || isThenable(value) || hasGpc(req)) {
      slowPath(req, res, next, value).catch((error: unknown) => { fail(req, res, error); });
      return;
    }
    let link: CacheLink | null;
    try {
      const { id } = resolver.fromValue(req, value);
      link = id === null ? null : engine.subjectLink(id);
    } catch (error) {
      fail(req, res, error);
      return;
    }
    // A visitor without a cookie has decided nothing yet.
    if (link === null) { decide(req, res, next, []); return; }
    const now = engine.now();
    // A hit with every listed requirement allowed: two comparisons each, no state derived.
    if (engine.cachedAllows(link, now, indexes ?? listedIndexes()) === true) { next(); return; }
    const pseudonym = link.key;
    const cached = engine.cachedRecords(pseudonym, now);
    if (cached) { decide(req, res, next, cached, now); return; }
    engine.records(pseudonym).then(
      (records) => { decide(req, res, next, records); },
      (error: unknown) => { fail(req, res, error); },
    );
  };
}
