import express, { type ErrorRequestHandler, type Request, type Router } from 'express';
import type { ConsentEngine } from '../core/engine';
import type { WriteLimiter } from '../core/write-limiter';
import { ConsentError } from '../errors';
import { asyncHandler } from './async-handler';
import { confirmBody, confirmPathError, confirmPostHandler, confirmPreviewHandler } from './confirm-routes';
import { addAdminConsole } from './console/console-routes';
import { jsonBody } from './json-body';
import { addAdminRoutes } from './admin-routes';
import { addMeRoutes } from './me-routes';
import { openApiDocument } from './openapi';
import { pathParameterErrors } from './path-errors';
import { answerError } from './problem';
import { proofHandlers, type ProofSource } from './proof-routes';
import type { ReadyGate } from './ready-gate';
import { sameOriginWrites } from './same-origin';
import type { MeRouteSubjects } from './me-routes';
import { newVisitorId } from '../core/visitor-id';
import { addClientRoutes } from './client-routes';
import { listingLocale, localeOf, shownIn } from '../i18n/localize';
import { requestRanges } from './request-locale';
import { invalidTextHash, textByHash } from '../core/text-lookup';

/**
 * The consent router. Mount it before any global body parser; it parses its own
 * JSON bodies and answers every failure as `application/problem+json`. `limiter` counts the
 * subjects' writes (null: no limit).
 */
export function createRouter(
  engine: ConsentEngine,
  gate: ReadyGate,
  source: ProofSource,
  subjects: MeRouteSubjects,
  limiter: WriteLimiter | null = null,
): Router {
  // The `subject` hook sees the mount path's parameters (`/:tenant/consent`), as it does on the
  // host's own routes; a parameter of the router's own routes (`:id`, `:token`) wins over one of
  // the same name.
  const router = express.Router({ mergeParams: true });
  const body = jsonBody();
  const serving = asyncHandler(async (_req, _res, next) => {
    await gate.serving();
    next();
  });

  // Confirmation links without confirm.baseUrl start with the path the router is mounted at.
  router.use((req, _res, next) => {
    engine.rememberMountPath(req.baseUrl);
    next();
  });
  // Only the router's own paths: mounted at `/`, it sees every request of the host's app too,
  // whose cross-site writes (an identity provider's form_post, a CORS API) are the host's call.
  // Without `admin` there are no admin routes: `/admin…` is the host's.
  const own = engine.options.admin === null ? ['/me', '/confirm'] : ['/me', '/confirm', '/admin'];
  router.use(own, sameOriginWrites(engine.options.trustedOrigins));

  const proof = proofHandlers(source, {
    async subject(req) {
      const who = await subjects.resolver.resolve(req);
      await gate.serving();
      // A visitor without a cookie has nothing stored: an id nobody holds reads as empty.
      return who.id ?? newVisitorId();
    },
  });

  // First: the routes every page view and every decision takes, so that they pass no other route on the way.
  addMeRoutes(router, engine, gate, subjects, limiter);

  router.get('/requirements', body, asyncHandler(async (req, res) => {
    const ranges = requestRanges(req);
    await gate.serving();
    const requirements = engine.registry.list();
    const locale = listingLocale(requirements, ranges);
    res.vary('Accept-Language');
    res.set('Content-Language', locale);
    res.json({ locale, requirements: requirements.map((r) => shownIn(r, localeOf(r, ranges))) });
  }));

  router.get('/texts/:hash', body, asyncHandler(async (req, res) => {
    await gate.serving();
    const hash = req.params.hash as string;
    const text = await textByHash(engine, hash);
    if (text === null) {
      throw new ConsentError('unknown_requirement', 'no stored requirement text has this hash', { status: 404, extensions: { ids: [], textHash: hash } });
    }
    // A text never changes under its hash.
    res.set('Cache-Control', 'public, max-age=86400, immutable');
    res.json(text);
  }));
  // A hash that is not valid percent-encoding is no hash: 400, as for any malformed one.
  router.use(pathParameterErrors(/^\/texts\/[^/]+\/?$/, ['GET', 'HEAD'], [body], () => invalidTextHash()));
  router.get('/me/receipt', body, proof.receipt);
  router.get('/me/export', body, proof.exportMe);
  router.get('/receipts/key', body, proof.receiptKey);
  addAdminRoutes(router, engine, gate, proof);
  addAdminConsole(router, engine, gate);

  router.get('/confirm/:token', body, serving, confirmPreviewHandler(engine));
  router.post('/confirm/:token', confirmBody(), serving, confirmPostHandler(engine));
  router.use(confirmPathError(engine));

  addClientRoutes(router, engine.options.messages);
  router.get('/openapi.json', body, (req, res) => {
    res.json(openApiDocument(req.baseUrl, { admin: engine.options.admin !== null, rateLimit: limiter !== null }));
  });

  // Only errors raised inside this router's routes arrive here (Express skips a router's
  // error handlers for errors coming from outside it).
  const onError: ErrorRequestHandler = (error, req, res, next) => {
    if (res.headersSent) { next(error); return; }
    answerError(req, res, fromPathError(error, req) ?? error, engine.options.logger, engine.options.messages);
  };
  router.use(onError);
  return router;
}

/**
 * Any other path that is not valid percent-encoding (`GET /me/%E0%A4%A`, a method no route of
 * that path takes): 404, as nothing is found there. (The routes with a path parameter answer
 * theirs after their own first checks.)
 */
function fromPathError(error: unknown, req: Request): ConsentError | null {
  if (!(error instanceof URIError)) return null;
  return new ConsentError('unknown_requirement', 'the path is not valid percent-encoding', {
    status: 404,
    extensions: { ids: [req.path.split('/').pop() ?? ''] },
  });
}
