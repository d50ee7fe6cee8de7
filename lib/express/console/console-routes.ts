import type { Request, Router } from 'express';
import type { Knex } from 'knex';
import type { ConsentEngine } from '../../core/engine';
import { ConsentError } from '../../errors';
import { KnexTracker } from '../../knex/knex-tracker';
import { streamExport } from '../admin-export';
import { needs } from '../admin-routes';
import { asyncHandler } from '../async-handler';
import { mountedPath } from '../mounted-path';
import type { ReadyGate } from '../ready-gate';
import { sendPage } from './html';
import { overviewPage } from './overview';
import { subjectPage } from './subject-page';

function querySubject(req: Request): string | undefined {
  const id = req.query.id;
  if (id === undefined) return undefined;
  if (typeof id !== 'string' || id.length > 256) throw new ConsentError('invalid_subject', 'the subject id must be a string of at most 256 characters');
  return id;
}

/**
 * The admin console under `/admin/console/` (only with `admin.authorize`; anything but `true`
 * is 403): server-rendered pages with no scripts and no external resources.
 */
export function addAdminConsole(router: Router, engine: ConsentEngine, gate: ReadyGate): void {
  const admin = engine.options.admin;
  if (!admin) return;
  const knexOf = (): Knex | null => (engine.configuredTracker instanceof KnexTracker ? engine.configuredTracker.knex : null);

  // Per route, like the admin routes: `authorize` sees the request's own path.
  const authorize = asyncHandler(async (req, _res, next) => {
    let verdict: unknown = false;
    try {
      verdict = await admin.authorize(req);
    } catch (error) {
      engine.options.logger.warn(`express-consent: admin.authorize threw, answering 403: ${String(error)}`);
    }
    if (verdict !== true) throw new ConsentError('forbidden', 'the admin console needs authorization');
    await gate.serving();
    next();
  });

  // Routing is not strict: both spellings land here, and the pages' relative links need the slash.
  router.get('/admin/console', authorize, asyncHandler(async (req, res) => {
    if (!req.path.endsWith('/')) return res.redirect(301, mountedPath(req, '/admin/console/'));
    sendPage(res, 'Consent overview', await overviewPage(engine, knexOf()));
  }));
  router.get('/admin/console/subject', authorize, asyncHandler(async (req, res) => {
    sendPage(res, 'Subject lookup', await subjectPage(engine, querySubject(req)));
  }));
  router.get('/admin/console/export', authorize, asyncHandler(async (req, res) => {
    const format = req.query.format ?? 'csv';
    if (format !== 'csv' && format !== 'ndjson') throw new ConsentError('invalid_argument', 'format must be csv or ndjson');
    // The same download as `GET /admin/export`: one reader, one row format, one id per event.
    await streamExport(engine, needs(engine.tracker, 'auditEvents'), res, { format });
  }));
}
