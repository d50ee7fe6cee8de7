import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { confirmToken, invalidToken, previewToken, usedLink } from '../core/confirm';
import type { ConsentEngine } from '../core/engine';
import type { Requirement } from '../types';
import { ConsentError } from '../errors';
import { alreadyConfirmedPage, confirmedPage, failedPage, previewPage } from './confirm-page';
import { requireNoBody } from './body-shape';
import { carriesBody, formBody, hasMediaType, jsonBody } from './json-body';
import { mountedPath } from './mounted-path';
import { asyncHandler } from './async-handler';
import { writeContext } from './network';
import { RETRY_AFTER_SECONDS } from './problem';
import { sendPage } from './send-page';
import { localeOf, shownIn, textIn } from '../i18n/localize';
import { lenientRanges, pageWords, queryLocale } from './request-locale';

/** A person following an emailed link gets pages; programs (and ties) get JSON. */
const wantsHtml = (req: Request) => req.accepts(['json', 'html']) === 'html';

function prepare(engine: ConsentEngine, req: Request, res: Response): void {
  engine.rememberMountPath(req.baseUrl);
  // The token is in the path: never hand it to another site through the Referer header.
  res.set('Referrer-Policy', 'no-referrer');
  res.set('Cache-Control', 'no-store');
  res.vary('Accept');
}

/**
 * A person gets a page saying what happened and what to do, with the status of the problem; a
 * link whose confirmation already went through says so. Programs get the problem (next).
 */
function fail(engine: ConsentEngine, error: unknown, req: Request, res: Response, next: NextFunction): void {
  if (!wantsHtml(req) || !(error instanceof ConsentError) || (error.status >= 500 && error.code !== 'store_unavailable')) {
    next(error);
    return;
  }
  const answer = async () => {
    // A store that fails here leaves the plain answer: the link cannot be used.
    const used = error.code === 'token_invalid' ? await usedLink(engine, tokenOf(req)).catch(() => null) : null;
    if (error.code === 'store_unavailable') res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    const page = pageWords(req, engine.options.messages);
    const ranges = lenientRanges(req);
    const content = used ? alreadyConfirmedPage(used.requirements.map((r) => textIn(r, localeOf(r, ranges)).title), page, engine.options.pages.settings) : failedPage(error.code, page, engine.options.pages.settings);
    sendPage(req, res, engine.options.pages, error.status, content);
  };
  answer().catch(next);
}

const tokenOf = (req: Request): string => String(req.params.token ?? '');

/**
 * `GET /confirm/:token`: shows what the token would confirm, as `{ requirement, expiresAt }` or
 * an accessible HTML page with a confirmation button. Changes nothing, so link scanners and
 * prefetchers cannot confirm. Errors go to `next(err)` (a page for HTML clients).
 */
export function confirmPreviewHandler(engine: ConsentEngine): RequestHandler {
  return asyncHandler(async (req, res, next) => {
    prepare(engine, req, res);
    try {
      const preview = await previewToken(engine, tokenOf(req));
      const locale = localeOf(preview.requirement, lenientRanges(req));
      res.vary('Accept-Language');
      if (!wantsHtml(req)) {
        res.json({ ...preview, requirement: shownIn(preview.requirement, locale) });
        return;
      }
      // The answer (and the locale the confirmation records) stays in the language shown.
      const lang = queryLocale(req);
      const query = lang === null ? '' : `?lang=${encodeURIComponent(lang)}`;
      const action = mountedPath(req, `/confirm/${encodeURIComponent(tokenOf(req))}${query}`);
      const shown = { text: textIn(preview.requirement, locale), locale };
      sendPage(req, res, engine.options.pages, 200, previewPage(preview, shown, action, pageWords(req, engine.options.messages)));
    } catch (error) {
      fail(engine, error, req, res, next);
    }
  });
}

/**
 * `POST /confirm/:token`: confirms (200 `StateInfo`, `granted`; a page for HTML clients). Takes
 * no body; the confirmation page posts an empty urlencoded form, which the router accepts here.
 * A body with any field is 400 `invalid_body` (once the token is known) and confirms nothing.
 */
export function confirmPostHandler(engine: ConsentEngine): RequestHandler {
  return asyncHandler(async (req, res, next) => {
    prepare(engine, req, res);
    try {
      const checkInput = () => { requireNoBody(carriesBody(req) ? (req.body as unknown) : undefined, carriesBody(req)); };
      // The locale the link's page showed (GET negotiates it the same way), recorded on the event.
      const shownLocale = (requirement: Requirement) => localeOf(requirement, lenientRanges(req));
      const state = await confirmToken(engine, tokenOf(req), writeContext(req, engine.options), { checkInput, locale: shownLocale });
      if (!wantsHtml(req)) {
        res.json(state);
        return;
      }
      const requirement = engine.registry.require(state.id);
      const locale = shownLocale(requirement);
      sendPage(req, res, engine.options.pages, 200, confirmedPage({ text: textIn(requirement, locale), locale }, pageWords(req, engine.options.messages), engine.options.pages.settings));
    } catch (error) {
      fail(engine, error, req, res, next);
    }
  });
}

const TOKEN_PATH = /^\/confirm\/[^/]+\/?$/;

/**
 * Express fails with a URIError on a token that is not valid percent-encoding, before the
 * handlers run. No such token was ever sent: 404 `token_invalid`, a page for HTML clients.
 */
export function confirmPathError(engine: ConsentEngine): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (!(error instanceof URIError) || !TOKEN_PATH.test(req.path)) { next(error); return; }
    prepare(engine, req, res);
    fail(engine, invalidToken(), req, res, next);
  };
}

/**
 * Body parsing of `POST /confirm/:token`: no body, or the confirmation page's own urlencoded
 * form (this route only), or JSON, under the router's body rules (415, 413, 400). Its content
 * must be empty (checked by the handler).
 */
export function confirmBody(): RequestHandler {
  const json = jsonBody();
  const form = formBody();
  return (req, res, next) => {
    if (carriesBody(req) && hasMediaType(req, 'application/x-www-form-urlencoded')) return form(req, res, next);
    json(req, res, next);
  };
}
