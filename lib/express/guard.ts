import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ConsentEngine } from '../core/engine';
import { localTarget } from '../local-url';
import { ConsentError } from '../errors';
import { allowedUnder, isAllowedNow, stateInfo } from '../state/derive';
import type { CurrentRecord } from '../tracker/records';
import type { Requirement } from '../types';
import { middlewareOptions } from './middleware-options';
import { problem, problemWords, sendProblem, toProblem } from './problem';
import { localeOf, textIn } from '../i18n/localize';
import { acceptedRanges } from '../i18n/negotiate';
import type { MessageKey } from '../i18n/catalog';
import type { ReadyGate } from './ready-gate';
import { isThenable } from './thenable';
import { requestCheck, type CheckRule, type MissingConsent, type Verdict } from './request-check';
import type { SubjectResolver } from './subject';

export type { MissingConsent } from './request-check';

/** Options of `requireConsent()`. */
export interface GuardOptions {
  /**
   * Where to send HTML clients that lack consent (303 with `?next=` or `&next=` and the
   * encoded path and query of the request, never another origin). JSON clients still get 403
   * `consent_required`.
   */
  redirect?: string | undefined;
}

/**
 * The `redirect` option of a middleware factory.
 * @throws ConsentError `invalid_argument` for anything but a non-empty string.
 */
export function redirectOption(redirect: unknown, factory: string): string | undefined {
  if (redirect !== undefined && (typeof redirect !== 'string' || redirect === '')) {
    throw new ConsentError('invalid_argument', `${factory}: "redirect" must be a non-empty URL or path`);
  }
  return redirect;
}

// `next` is always a local path: an absolute-form request target keeps only its path and query.
// It joins the query of `base`, before any fragment (which the browser never sends).
function redirectTarget(base: string, req: Request): string {
  const hash = base.indexOf('#');
  const [url, fragment] = hash < 0 ? [base, ''] : [base.slice(0, hash), base.slice(hash)];
  return `${url}${url.includes('?') ? '&' : '?'}next=${encodeURIComponent(localTarget(req.originalUrl))}${fragment}`;
}

const findRecord = (records: CurrentRecord[], id: string): CurrentRecord | undefined => {
  for (const record of records) if (record.requirement === id) return record;
  return undefined;
};


/**
 * The guard's rule for `ids`: every listed requirement allowed. The cache answers a hit by
 * comparing `now` with the allowed windows of the listed requirements (`allowedWindow`); states
 * are derived and a `StateInfo` built only for a refusal.
 */
export function allowedRule(engine: ConsentEngine, ids: readonly string[]): CheckRule {
  // Resolved on first use, after ready(): the ids are known and the registry sealed then. The
  // requirements themselves are looked up each time: a version registered ahead may start.
  let indexes: number[] | null = null;
  const listedRequirements = (): Requirement[] => ids.map((id) => engine.registry.require(id));
  const listedIndexes = (): number[] => {
    const ordered = engine.registry.ordered();
    return (indexes ??= ids.map((id) => ordered.findIndex((requirement) => requirement.id === id)));
  };
  return {
    cachedPass: (link, now) => engine.cachedAllows(link, now, indexes ?? listedIndexes()),
    missing(records, gpc, now) {
      let missing: MissingConsent[] | null = null;
      for (const requirement of listedRequirements()) {
        const record = findRecord(records, requirement.id);
        if (isAllowedNow(record, requirement, now, gpc)) continue;
        const { state } = stateInfo(record, requirement, now, gpc);
        const reason = allowedUnder(requirement.lawfulBasis, state) ? 'gpc' : state;
        (missing ??= []).push({ id: requirement.id, state, reason, title: requirement.title, url: requirement.url });
      }
      return missing;
    },
  };
}

/**
 * Middleware around a request check: `next()` when it passes; otherwise 403
 * `consent_required` listing what is missing (or 303 to `redirect` for HTML clients); a
 * failure (no subject, a hook that threw, a store that is down) is answered as its problem.
 * Middleware sits on host routes: it answers by itself rather than hand the error to the
 * host's handler. `needs` is the catalog key of the problem's detail, which names the titles.
 */
export function checkMiddleware(
  engine: ConsentEngine,
  check: (req: Request) => Verdict | Promise<Verdict>,
  redirect: string | undefined,
  needs: MessageKey = 'detail.consent_required',
): RequestHandler {
  const { logger } = engine.options;

  function answer(req: Request, res: Response, next: NextFunction, missing: Verdict): void {
    if (missing === null) { next(); return; }
    res.vary('Accept');
    res.set('Cache-Control', 'no-store');
    if (redirect !== undefined && req.accepts(['json', 'html']) === 'html') {
      res.redirect(303, redirectTarget(redirect, req));
      return;
    }
    const words = problemWords(req, engine.options.messages);
    const ranges = acceptedRanges(req.get('accept-language'));
    // Titles and links in the language the request prefers, among each requirement's own.
    const shown = missing.map((m) => {
      const requirement = engine.registry.require(m.id);
      const { title, url } = textIn(requirement, localeOf(requirement, ranges));
      return { ...m, title, url };
    });
    const detail = words.catalog.text(words.locale, needs, { titles: words.catalog.quoted(words.locale, shown.map((m) => m.title)) });
    sendProblem(res, problem('consent_required', 403, detail, req.originalUrl, { missing: shown }), words);
  }

  // Middleware sits on host routes: answer here rather than hand the error to the host's handler.
  const fail = (req: Request, res: Response, error: unknown): void => {
    sendProblem(res, toProblem(error, req.originalUrl, logger), problemWords(req, engine.options.messages));
  };

  return (req, res, next) => {
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = check(req);
    } catch (error) {
      fail(req, res, error);
      return;
    }
    // The hot path: a cached subject with everything allowed.
    if (verdict === null) { next(); return; }
    if (isThenable(verdict)) {
      verdict.then(
        (missing) => { answer(req, res, next, missing); },
        (error: unknown) => { fail(req, res, error); },
      );
      return;
    }
    answer(req, res, next, verdict);
  };
}

/**
 * `requireConsent(ids, options)`: calls `next()` only when every listed requirement is allowed
 * for the request's subject. It answers by itself otherwise, and fails closed: a state it
 * cannot read is a 503, never a pass. A request with the signal first records it (`applyGpc`),
 * as the router does.
 */
export function createGuard(engine: ConsentEngine, gate: ReadyGate, resolver: SubjectResolver, input: unknown, options?: unknown): RequestHandler {
  const ids = gate.ids(input, 'requireConsent');
  const redirect = redirectOption(middlewareOptions(options, 'requireConsent', ['redirect']).redirect, 'requireConsent');
  return checkMiddleware(engine, requestCheck(engine, gate, resolver, allowedRule(engine, ids)), redirect);
}
