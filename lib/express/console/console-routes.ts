import type { ErrorRequestHandler, Request, RequestHandler, Router } from 'express';
import { adminStats, dailySeries, windowStart } from '../../core/admin-stats';
import type { ConsentEngine } from '../../core/engine';
import { adminAuthorization } from '../admin-authorize';
import { sendEventExport } from '../admin-export';
import { decodableQuery, onlyQuery, parseExportQuery } from '../admin-query';
import { adminReader, requireAdmin } from '../admin-reader';
import { asyncHandler } from '../async-handler';
import { jsonBody } from '../json-body';
import { mountedPath } from '../mounted-path';
import type { ReadyGate } from '../ready-gate';
import { detailLocalized, localizeProblem, problemWords, RETRY_AFTER_SECONDS, toProblem } from '../problem';
import { html } from '../../pages/html';
import { sendPage } from '../send-page';
import type { Messages } from '../../i18n/catalog';
import { consolePage } from './console-page';
import { overviewPage } from './overview';
import { subjectPage } from './subject-page';

const CHART_DAYS = 30;

/** The console's words for a request: its language from `?lang=`, then `Accept-Language` (English by default). */
function consoleWords(req: Request, engine: ConsentEngine): { words: Messages; lang: string } {
  const { locale } = problemWords(req, engine.options.messages, true);
  return { words: engine.options.messages.words(locale), lang: locale };
}

/**
 * The admin console under `/admin/console/` (only with `admin.authorize`; anything but `true`
 * or `{ actor }` is 403): server-rendered pages with no scripts and no external resources. Statistics, the
 * chart and the exports read through the tracker's admin capability, like the admin routes;
 * without it the overview shows the requirements and says what is missing.
 */
export function addAdminConsole(router: Router, engine: ConsentEngine, gate: ReadyGate): void {
  const admin = engine.options.admin;
  if (!admin) return;
  const { tracker } = engine;
  const reader = adminReader(tracker);

  // Per route, like the admin routes: body rules first (415, 413, 400), then authorization,
  // which sees the request's own path; a query parameter a page does not take is 400.
  const guard = [jsonBody(), adminAuthorization(engine, gate, 'the admin console'), decodableQuery];

  // Routing is not strict: both spellings of each page land on it, and its relative links are
  // written for one of them (the overview's for its slash, the others' for none).
  const spelled = (path: string): RequestHandler => (req, res, next) => {
    if (req.path.endsWith('/') === path.endsWith('/')) { next(); return; }
    // The query (checked above) goes along: the language asked for stays.
    const query = req.url.indexOf('?');
    res.redirect(301, mountedPath(req, path) + (query >= 0 ? req.url.slice(query) : ''));
  };
  router.get('/admin/console', ...guard, onlyQuery('lang'), spelled('/admin/console/'), asyncHandler(async (req, res) => {
    const requirements = engine.registry.list();
    const ids = requirements.map((r) => r.id);
    const versions = await tracker.requirementVersions(ids);
    const now = engine.now();
    const [raw, counts] = reader ? await Promise.all([reader.stats(now), reader.dailyCounts(windowStart(now, CHART_DAYS))]) : [null, null];
    const { words, lang } = consoleWords(req, engine);
    sendPage(req, res, engine.options.pages, 200, consolePage(words['console.overview'], overviewPage({
      requirements,
      versions,
      upcoming: new Map(ids.map((id) => [id, engine.registry.upcoming(id)])),
      words,
      lang,
      stats: raw && adminStats(requirements, now, raw),
      days: counts && dailySeries(counts, now, CHART_DAYS),
    }), words, lang));
  }));
  router.get('/admin/console/subject', ...guard, onlyQuery('id', 'lang'), spelled('/admin/console/subject'), asyncHandler(async (req, res) => {
    const { words, lang } = consoleWords(req, engine);
    const page = await subjectPage(engine, req.query.id, words, lang);
    sendPage(req, res, engine.options.pages, page.status, consolePage(words['console.subjectLookup'], page.body, words, lang));
  }));
  router.get('/admin/console/export', ...guard, asyncHandler(async (req, res) => {
    // The same download as `GET /admin/export`: one reader, one row format, one id per event.
    const query = parseExportQuery(req.query);
    await sendEventExport(res, requireAdmin(reader, tracker), engine.eventIds, engine.options.logger, query);
  }));
  router.use('/admin/console', consoleErrors(engine));
}

/**
 * A refusal or failure of a console page, for a browser (a request that prefers HTML): the
 * console's own page with the problem's words and status, not a problem document. Programs
 * get the problem as from every other route.
 */
function consoleErrors(engine: ConsentEngine): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent || req.accepts(['json', 'html']) !== 'html') { next(error); return; }
    const problem = localizeProblem(toProblem(error, req.originalUrl, engine.options.logger), problemWords(req, engine.options.messages, true));
    const { words, lang } = consoleWords(req, engine);
    if (problem.status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    // Most details are the library's English words: marked so on a page in another language.
    const english = lang !== 'en' && !detailLocalized(problem.code) ? html` lang="en"` : null;
    // A problem's detail starts in lower case (it follows the code in a log line); on a page it is a sentence.
    const sentence = problem.detail.charAt(0).toUpperCase() + problem.detail.slice(1);
    sendPage(req, res, engine.options.pages, problem.status, consolePage(problem.title, html`<p class="notice"${english}>${sentence}</p>`, words, lang));
  };
}
