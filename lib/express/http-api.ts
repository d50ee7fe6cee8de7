import type { Request, RequestHandler, Router } from 'express';
import { linkVisitor, type LinkResult } from '../core/link';
import { requireSubject } from '../core/input';
import type { ConsentEngine } from '../core/engine';
import { WriteLimiter } from '../core/write-limiter';
import { createAllows } from './allows';
import { createCollect, type CollectOptions } from './collect';
import { renderFormFields, type FormFieldsOptions } from './form-fields';
import { createGuard, type GuardOptions } from './guard';
import type { ProofSource } from './proof-routes';
import { NewVisitorLimit } from './new-visitors';
import { ReadyGate } from './ready-gate';
import { createRequireAnswers, type RequireAnswersOptions } from './require-answers';
import { createRouter } from './router';
import { SubjectResolver } from './subject';
import { visitorTransport, VisitorCookies } from './visitor-cookies';
import { warnOnce } from '../core/warn-once';

/** The Express side of a consent instance: the router, the guard and the form helpers. */
export interface ConsentHttpApi {
  /**
   * Resolves once the store is migrated and the registry sealed. Rejects with
   * `unknown_requirement` (listing every id) when a guard or form created before names an
   * unregistered requirement. Idempotent.
   */
  ready(): Promise<void>;
  /** The JSON API (see docs/http-api.md); mount it before any global body parser. */
  router(): Router;
  /**
   * Middleware that calls `next()` only when every listed requirement is allowed.
   * @throws ConsentError `invalid_argument` for `[]`; `unknown_requirement` after `ready()`.
   * @example app.post('/track', consent.requireConsent('analytics'), handler);
   */
  requireConsent(ids: string | string[], options?: GuardOptions): RequestHandler;
  /**
   * Whether `requireConsent(ids)` would let this request through: the same subject, GPC signal,
   * cache and fail-closed rules, for code that decides inside a handler. False without a
   * subject; rejects with `store_unavailable` when the state cannot be read (never true).
   * @example if (await consent.allows(req, 'analytics')) track(req);
   */
  allows(req: Request, ids: string | string[]): Promise<boolean>;
  /**
   * The pending gate: `next()` when the subject has nothing left to answer (or nothing among
   * `only`); otherwise 403 `consent_required` listing what is pending, or 303 to `redirect`.
   * @example app.use('/app', consent.requireAnswers({ redirect: '/preferences' }));
   */
  requireAnswers(options?: RequireAnswersOptions): RequestHandler;
  /**
   * Middleware reading the consent checkboxes of a host form into `res.locals.consent`.
   * @example app.post('/signup', express.urlencoded({ extended: true }), consent.collect(['terms', 'newsletter']), signup);
   */
  collect(ids: string | string[], options?: CollectOptions): RequestHandler;
  /** Escaped, accessible HTML checkboxes for a host form. */
  formFields(ids: string | string[], options?: FormFieldsOptions): string;
  /**
   * For a sign-in or sign-up handler: carries the decisions of the request's visitor (its
   * cookie) to `subjectId` (see `linkVisitor`). The visitor stays a visitor: after sign-out the
   * same browser is that visitor again, never the account. Without the `visitors` option or a
   * valid visitor cookie it does nothing (`{ visitorId: null, linked: [] }`).
   * @throws ConsentError `invalid_subject` for a bad `subjectId`.
   * @example await consent.link(req, user.id);
   */
  link(req: Request, subjectId: string | number): Promise<LinkResult>;
}

const PLAIN_IN_PRODUCTION = 'express-consent: a visitor cookie was set over plain HTTP on loopback while NODE_ENV=production, so without Secure and the __Host- prefix. ' +
  "Behind a proxy on the same host, trust it (app.set('trust proxy', 'loopback')) and have it send X-Forwarded-Proto and X-Forwarded-Host, so that visitors over HTTPS get the secure cookie.";

/** The proof methods the router serves (`/me/receipt`, `/me/export`, `/receipts/key`, admin). */
export type RouterProof = Omit<ProofSource, 'engine' | 'ready'>;

/** Builds the Express side of a consent instance around its engine and proof methods. */
export function createHttpApi(engine: ConsentEngine, proof: RouterProof): ConsentHttpApi {
  const gate = new ReadyGate(engine);
  // One count per instance, shared by every router it builds.
  const { rateLimit } = engine.options;
  const limiter = rateLimit ? new WriteLimiter(rateLimit.writes, rateLimit.windowMs) : null;
  const { visitors } = engine.options;
  const { logger, production } = engine.options;
  const plainWritten = production ? () => { warnOnce(logger, PLAIN_IN_PRODUCTION); } : undefined;
  const cookies = visitors ? new VisitorCookies(visitors, () => engine.derivedKeys.visitorCookie, () => engine.now(), plainWritten) : null;
  const resolver = new SubjectResolver(engine.options.subject, cookies, () => gate.serving());
  const newVisitors = cookies && rateLimit ? new NewVisitorLimit(rateLimit.newVisitors, rateLimit.windowMs, () => engine.now()) : null;
  const subjects = { resolver, cookies, newVisitors };
  const source: ProofSource = {
    engine,
    receipt: (subjectId) => proof.receipt(subjectId),
    verify: (options) => proof.verify(options),
    checkpoint: () => proof.checkpoint(),
    // A getter: the key is loaded by ready(), after the router was built.
    get publicKey() {
      return proof.publicKey;
    },
    ready: () => gate.serving(),
  };
  return {
    ready: () => gate.ready(),
    router: () => createRouter(engine, gate, source, subjects, limiter),
    requireConsent: (ids, options) => createGuard(engine, gate, resolver, ids, options),
    allows: createAllows(engine, gate, resolver),
    requireAnswers: (options) => createRequireAnswers(engine, gate, resolver, options),
    collect: (ids, options) => createCollect(engine, gate, subjects, ids, options),
    formFields: (ids, options) => renderFormFields(engine, gate, ids, options),
    async link(req, subjectId) {
      requireSubject(subjectId);
      const transport = cookies === null ? null : visitorTransport(req);
      if (cookies === null || transport === null) return { visitorId: null, linked: [] };
      await gate.serving();
      const visitorId = cookies.read(req, transport);
      return visitorId === null ? { visitorId: null, linked: [] } : linkVisitor(engine, visitorId, subjectId);
    },
  };
}
