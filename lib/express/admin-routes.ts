import type { Request, RequestHandler, Router } from 'express';
import { adminStats } from '../core/admin-stats';
import { audiencePages } from '../core/audience';
import type { ConsentEngine } from '../core/engine';
import { publicEvent } from '../core/public-event';
import { ConsentError } from '../errors';
import { audienceExport } from '../io/audience-export';
import { EXPORT_TYPES } from '../io/event-export';
import { adminActor, adminAuthorization } from './admin-authorize';
import { sendEventExport } from './admin-export';
import { decodableQuery, onlyQuery, parseAudienceQuery, requireDecodableQuery, parseAuditQuery, parseExportQuery } from './admin-query';
import { adminReader, requireAdmin } from './admin-reader';
import { asyncHandler } from './async-handler';
import { parseHistoryQuery, parsePostBody, requireNoBody } from './body-shape';
import { pathParameterErrors, pathSegment, undecodableRequirement } from './path-errors';
import { carriesBody, jsonBody } from './json-body';
import { sendStream } from './send-stream';
import type { ProofHandlers } from './proof-routes';
import type { ReadyGate } from './ready-gate';
import { noStore } from './send-json';
import { checkDecisions } from '../core/record-decisions';


const subjectParam = (req: Request): string => req.params.subjectId as string;

const SUBJECT_PATH = /^\/admin\/subjects\/[^/]+(?:\/history|\/decisions)?\/?$/;
const REQUIREMENT_PATH = /^\/admin\/requirements\/[^/]+\/subjects\/?$/;

/**
 * The admin routes, added only when `admin.authorize` is configured: otherwise the
 * paths do not exist and fall through to the host. `authorize(req)` must resolve to `true` or
 * `{ actor }`; anything else, or a throw, is 403 `forbidden`. A query parameter a route does not
 * take is 400 `invalid_body`.
 */
export function addAdminRoutes(router: Router, engine: ConsentEngine, gate: ReadyGate, proof: ProofHandlers): void {
  const admin = engine.options.admin;
  if (!admin) return;
  const { tracker } = engine;
  // Searches, exports and stats read through the tracker's admin capability only.
  const reader = adminReader(tracker);

  const authorize = adminAuthorization(engine, gate, 'this admin route');
  // Body rules first (415, 413, 400), like every route, then authorization. Per route rather
  // than router.use('/admin'), so that `authorize` sees the request's own req.path and an
  // unknown /admin path still falls through to the host.
  const authorized: RequestHandler[] = [noStore, jsonBody(), authorize];
  // Then a query that is not valid percent-encoding is refused (a route with a requirement id in
  // its path refuses it after the id: 404 before 400).
  const guard: RequestHandler[] = [...authorized, decodableQuery];

  router.get('/admin/subjects/:subjectId', ...guard, onlyQuery(), asyncHandler(async (req, res) => {
    const states = await engine.states(subjectParam(req));
    res.json({ states, pending: engine.pendingFrom(states) });
  }));

  router.get('/admin/subjects/:subjectId/history', ...guard, onlyQuery('limit', 'requirement', 'cursor'), asyncHandler(async (req, res) => {
    const query = parseHistoryQuery(req.query);
    res.json(await engine.history(subjectParam(req), query));
  }));

  // Staff record a decision taken elsewhere (on the phone, on paper): source `admin`, with the
  // actor `authorize` named. The staff member's request is not the subject's: no GPC signal,
  // no network details.
  // After a failed ready(), what was sent is answered first (docs/http-api.md, the order of checks), then 503.
  const settled = [noStore, jsonBody(), adminAuthorization(engine, gate, 'this admin route', true), decodableQuery];
  router.post('/admin/subjects/:subjectId/decisions', ...settled, onlyQuery(), asyncHandler(async (req, res) => {
    const parsed = parsePostBody(carriesBody(req) ? (req.body as unknown) : undefined);
    if (!gate.isServing) checkDecisions(engine.registry, parsed.decisions, 422);
    await gate.serving();
    const meta = { source: 'admin' as const, actor: adminActor(req), note: parsed.note, data: parsed.data, context: parsed.context };
    const { states, pending } = await engine.record(subjectParam(req), parsed.decisions, meta, { unknownStatus: 422, mountPath: req.baseUrl });
    res.json({ states, pending });
  }));

  router.delete('/admin/subjects/:subjectId', ...guard, onlyQuery(), (req, _res, next) => {
    try {
      requireNoBody(carriesBody(req) ? (req.body as unknown) : undefined, carriesBody(req));
      next();
    } catch (error) {
      next(error);
    }
  }, proof.adminErase);

  // A subject id that is not valid percent-encoded UTF-8 (Express fails before the routes
  // above run): the body rules and authorization still come first, as on every admin route;
  // then the id is refused like one the library would not take.
  router.use(pathParameterErrors(SUBJECT_PATH, ['GET', 'HEAD', 'POST', 'DELETE'], guard, () => new ConsentError('invalid_subject', 'the subject id in the path is not valid percent-encoded UTF-8')));

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

  router.get('/admin/requirements/:id/subjects', ...authorized, asyncHandler(async (req, res) => {
    const requirement = engine.registry.require(req.params.id as string, 404);
    requireDecodableQuery(req);
    const { filter, format } = parseAudienceQuery(req.query);
    const summary = { listed: 0, skipped: 0, unreadable: 0, done: false };
    const headers = {
      'Content-Type': EXPORT_TYPES[format],
      'Content-Disposition': `attachment; filename="${requirement.id}-subjects.${format}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    };
    const chunks = audienceExport(audiencePages(engine, requirement.id, filter, summary), format);
    await sendStream(res, headers, chunks, engine.options.logger, 'the audience listing');
  }));
  // A requirement id that is not valid percent-encoding: authorization first, then unknown.
  router.use(pathParameterErrors(REQUIREMENT_PATH, ['GET', 'HEAD'], authorized, (req) => undecodableRequirement(pathSegment(req, 3))));

  router.get('/admin/verify', ...guard, onlyQuery('subjectId'), proof.adminVerify);

  router.get('/admin/checkpoint', ...guard, onlyQuery(), proof.adminCheckpoint);

  router.get('/admin/stats', ...guard, onlyQuery(), asyncHandler(async (_req, res) => {
    const store = requireAdmin(reader, tracker);
    const now = engine.now();
    res.json(adminStats(engine.registry.list(), now, await store.stats(now)));
  }));
}
