import type { Request, Response, Router } from 'express';
import type { Knex } from 'knex';
import type { ConsentEngine } from '../../core/engine';
import { ConsentError } from '../../errors';
import { KnexTracker } from '../../knex/knex-tracker';
import { csvHeader, csvLine, eventRows, ndjsonLine } from '../../ops/event-rows';
import { asyncHandler } from '../async-handler';
import { mountedPath } from '../mounted-path';
import type { ReadyGate } from '../ready-gate';
import { sendPage } from './html';
import { overviewPage } from './overview';
import { subjectPage } from './subject-page';

async function writeChunk(res: Response, chunk: string): Promise<void> {
  if (!res.write(chunk)) await new Promise<void>((resolve) => {
    res.once('drain', resolve);
    res.once('close', resolve);
  });
}

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
  const knexOf = (): Knex | null => (engine.tracker instanceof KnexTracker ? engine.tracker.knex : null);

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
    const knex = knexOf();
    if (!knex) throw new ConsentError('internal_error', 'the console export reads the Knex tracker directly');
    const pages = eventRows(knex, engine.options.tablePrefix);
    const first = await pages.next();
    res.status(200).set({
      'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="consent-events.${format}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    const line = format === 'csv' ? csvLine : ndjsonLine;
    if (format === 'csv') await writeChunk(res, csvHeader());
    try {
      for (let page = first; !page.done && !res.destroyed; page = await pages.next()) await writeChunk(res, page.value.map(line).join(''));
      res.end();
    } catch (error) {
      engine.options.logger.error('express-consent: the console export failed midway', error);
      res.destroy();
    }
  }));
}
