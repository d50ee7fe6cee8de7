import type { Request, RequestHandler } from 'express';
import type { ConsentEngine } from '../core/engine';
import { applyGpc } from '../core/gpc';
import { ConsentError } from '../errors';
import { allowedUnder } from '../state/derive';
import type { State, StateInfo } from '../types';
import { hasGpc, writeContext } from './network';
import { problem, sendProblem, toProblem } from './problem';
import type { ReadyGate } from './ready-gate';
import { resolveSubject } from './subject';

/** Options of `requireConsent()`. */
export interface GuardOptions {
  /**
   * Where to send HTML clients that lack consent (303 with `?next=` or `&next=` and the
   * encoded original URL). JSON clients still get 403 `consent_required`.
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
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new ConsentError('invalid_argument', 'requireConsent options must be an object');
  for (const key of Object.keys(options)) {
    if (key !== 'redirect') throw new ConsentError('invalid_argument', `requireConsent has no option "${key}" (only "redirect")`);
  }
  const { redirect } = options as GuardOptions;
  if (redirect !== undefined && (typeof redirect !== 'string' || redirect === '')) {
    throw new ConsentError('invalid_argument', 'requireConsent: "redirect" must be a non-empty URL or path');
  }
  return { redirect };
}

function redirectTarget(base: string, req: Request): string {
  return `${base}${base.includes('?') ? '&' : '?'}next=${encodeURIComponent(req.originalUrl)}`;
}

/**
 * `requireConsent(ids, options)`: calls `next()` only when every listed requirement is allowed
 * for the request's subject. It answers by itself otherwise, and fails closed: a state it
 * cannot read is a 503, never a pass.
 */
export function createGuard(engine: ConsentEngine, gate: ReadyGate, input: unknown, options?: unknown): RequestHandler {
  const ids = gate.ids(input, 'requireConsent');
  const { redirect } = parseGuardOptions(options);
  const { logger } = engine.options;

  async function missingFor(req: Request): Promise<MissingConsent[]> {
    const subject = await resolveSubject(req, engine.options);
    await gate.serving();
    // The signal is recorded before the answer (a refusal per gpc requirement, once).
    await applyGpc(engine, subject, writeContext(req, engine.options));
    const states = await engine.states(subject, hasGpc(req));
    const missing: MissingConsent[] = [];
    for (const id of ids) {
      const info = states[id] as StateInfo;
      if (info.allowed) continue;
      const requirement = engine.registry.require(id);
      const reason = allowedUnder(requirement.lawfulBasis, info.state) ? 'gpc' : info.state;
      missing.push({ id, state: info.state, reason, title: requirement.title, url: requirement.url });
    }
    return missing;
  }

  return (req, res, next) => {
    missingFor(req).then(
      (missing) => {
        if (missing.length === 0) return next();
        res.vary('Accept');
        res.set('Cache-Control', 'no-store');
        if (redirect !== undefined && req.accepts(['json', 'html']) === 'html') {
          res.redirect(303, redirectTarget(redirect, req));
          return;
        }
        const detail = `this needs consent to ${missing.map((m) => `"${m.id}"`).join(', ')}`;
        sendProblem(res, problem('consent_required', 403, detail, req.originalUrl, { missing }));
      },
      // Guards sit on host routes: answer here rather than hand the error to the host's handler.
      (error: unknown) => sendProblem(res, toProblem(error, req.originalUrl, logger)),
    );
  };
}
