import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { adminStats } from '../core/admin-stats';
import type { ConsentEngine } from '../core/engine';
import { publicEvent } from '../core/public-event';
import { ConsentError } from '../errors';
import { sendEventExport } from './admin-export';
import { parseAuditQuery, parseExportQuery } from './admin-query';
import { adminReader, requireAdmin } from './admin-reader';
import { asyncHandler } from './async-handler';
import { parseHistoryQuery, requireNoBody } from './body-shape';
import { carriesBody, jsonBody } from './json-body';
import type { ProofHandlers } from './proof-routes';
import type { ReadyGate } from './ready-gate';

const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

const subjectParam = (req: Request): string => req.params.subjectId as string;

const SUBJECT_PATH = /^\/admin\/subjects\/[^/]+(?:\/history)?\/?$/;

/** Runs middleware one after the other, like a route does, then `done` (with the first error). */
function runEach(handlers: RequestHandler[], req: Request, res: Response, done: (error?: unknown) => void): void {
  const step = (index: number) => (error?: unknown) => {
    const handler = handlers[index];
    if (error !== undefined || handler === undefined) { done(error); return; }
    handler(req, res, step(index + 1) as NextFunction);
  };
  step(0)();
}

/**
 * The admin routes, added only when `admin.authorize` is configured: otherwise the
 * paths do not exist and fall through to the host. `authorize(req)` must resolve to exactly
 * `true`; anything else, or a throw, is 403 `forbidden`.
 */
export function addAdminRoutes(router: Router, engine: ConsentEngine, gate: ReadyGate, proof: ProofHandlers): void {
  const admin = engine.options.admin;
  if (!admin) return;
  const { tracker } = engine;
  // Searches, exports and stats read through the tracker's admin capability only.
  const reader = adminReader(tracker);

  const authorize = asyncHandler(async (req, _res, next) => {
    let verdict: unknown;
    try {
      verdict = await admin.authorize(req);
    } catch (error) {
      engine.options.logger.warn(`express-consent: admin.authorize threw, answering 403: ${String(error)}`);
      verdict = false;
    }
    if (verdict !== true) throw new ConsentError('forbidden', 'this admin route needs authorization');
    await gate.serving();
    next();
  });
  // Body rules first (415, 413, 400), like every route, then authorization. Per route rather
  // than router.use('/admin'), so that `authorize` sees the request's own req.path and an
  // unknown /admin path still falls through to the host.
  const guard: RequestHandler[] = [noStore, jsonBody(), authorize];

  router.get('/admin/subjects/:subjectId', ...guard, asyncHandler(async (req, res) => {
    const states = await engine.states(subjectParam(req));
    res.json({ states, pending: engine.pendingFrom(states) });
  }));

  router.get('/admin/subjects/:subjectId/history', ...guard, asyncHandler(async (req, res) => {
    const query = parseHistoryQuery(req.query);
    res.json(await engine.history(subjectParam(req), query));
  }));

  router.delete('/admin/subjects/:subjectId', ...guard, (req, _res, next) => {
    try {
      requireNoBody(carriesBody(req) ? (req.body as unknown) : undefined, carriesBody(req));
      next();
    } catch (error) {
      next(error);
    }
  }, proof.adminErase);

  // Express fails with a URIError on a subject id that is not valid percent-encoded UTF-8,
  // before any handler runs. The body rules and authorization still come first, as on every
  // admin route; then the id is refused like one the library would not take.
  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof URIError) || !SUBJECT_PATH.test(req.path)) { next(error); return; }
    runEach(guard, req, res, (refused) => { next(refused ?? new ConsentError('invalid_subject', 'the subject id in the path is not valid percent-encoded UTF-8')); });
  });

  router.get('/admin/events', ...guard, asyncHandler(async (req, res) => {
    const { limit, ...query } = parseAuditQuery(req.query, engine.eventIds);
    const events = await requireAdmin(reader, tracker).auditEvents({ ...query, order: 'newest', limit: limit + 1 });
    const page = events.slice(0, limit);
    const last = page[page.length - 1];
    res.json({
      events: page.map((event) => ({ ...publicEvent(event, engine.eventIds), subject: event.subject })),
      nextCursor: events.length > limit && last ? engine.eventIds.encode(last.id) : null,
    });
  }));

  router.get('/admin/export', ...guard, asyncHandler(async (req, res) => {
    const query = parseExportQuery(req.query);
    await sendEventExport(res, requireAdmin(reader, tracker), engine.eventIds, engine.options.logger, query);
  }));

  router.get('/admin/verify', ...guard, proof.adminVerify);

  router.get('/admin/checkpoint', ...guard, proof.adminCheckpoint);

  router.get('/admin/stats', ...guard, asyncHandler(async (_req, res) => {
    const store = requireAdmin(reader, tracker);
    const now = engine.now();
    res.json(adminStats(engine.registry.list(), now, await store.stats(now)));
  }));
}
