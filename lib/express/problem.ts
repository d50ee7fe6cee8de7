import type { Request, Response } from 'express';
import { ConsentError, type ConsentErrorCode, type ProblemCode } from '../errors';
import { errorOnce } from '../core/warn-once';
import type { ConsentLogger } from '../options';
import type { Catalog, MessageKey } from '../i18n/catalog';
import { EN } from '../i18n/messages-en';
import { acceptedRanges, lookup } from '../i18n/negotiate';
import { lenientRanges } from './request-locale';

export type { ProblemCode } from '../errors';

// The detail of an internal error the library does not name: the same for every such error.
const UNEXPECTED = 'An unexpected error occurred.';

/** Short, fixed titles (English; `sendProblem` shows them in the request's language): `detail` says what happened to this request. */
export const PROBLEM_TITLES: Record<ProblemCode, string> = {
  invalid_body: EN['problem.invalid_body'],
  no_subject: EN['problem.no_subject'],
  forbidden: EN['problem.forbidden'],
  consent_required: EN['problem.consent_required'],
  unknown_requirement: EN['problem.unknown_requirement'],
  token_invalid: EN['problem.token_invalid'],
  version_mismatch: EN['problem.version_mismatch'],
  token_expired: EN['problem.token_expired'],
  payload_too_large: EN['problem.payload_too_large'],
  unsupported_media_type: EN['problem.unsupported_media_type'],
  mandatory_missing: EN['problem.mandatory_missing'],
  rate_limited: EN['problem.rate_limited'],
  internal_error: EN['problem.internal_error'],
  store_unavailable: EN['problem.store_unavailable'],
};

/** Seconds a client should wait before retrying after `store_unavailable`. */
export const RETRY_AFTER_SECONDS = 5;

/** An RFC 9457 problem body. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance: string;
  [extension: string]: unknown;
}

const isProblemCode = (code: ConsentErrorCode): code is ProblemCode => code in PROBLEM_TITLES;

/**
 * The problem a thrown value becomes. Library-call validation errors become `invalid_body`;
 * storage errors `store_unavailable`; anything else `internal_error`, logged and never detailed
 * (a host mistake the library recognises, an `internal_error` with a `logOnce` line, is logged
 * once with its fix).
 */
export function toProblem(error: unknown, instance: string, logger: ConsentLogger): ProblemBody {
  if (error instanceof ConsentError && (error.code === 'invalid_argument' || error.code === 'invalid_subject')) {
    const errors = Array.isArray(error.extensions.errors) ? error.extensions.errors : [{ pointer: '', detail: error.message }];
    return problem('invalid_body', 400, error.message, instance, { errors });
  }
  if (error instanceof ConsentError && error.code === 'store_unavailable') {
    // Names what failed: a storage call, or ready() (whose error is the cause), which stays failed.
    if (typeof error.extensions.logOnce === 'string') errorOnce(logger, `express-consent: answering 503, ${error.extensions.logOnce}`, error.cause ?? error);
    else logger.error(`express-consent: answering 503, ${error.message}`, error.cause ?? error);
    return problem('store_unavailable', 503, 'The consent store is unavailable; try again shortly.', instance);
  }
  if (error instanceof ConsentError && isProblemCode(error.code) && error.code !== 'internal_error') {
    return problem(error.code, error.status, error.message, instance, error.extensions);
  }
  if (error instanceof ConsentError && error.code === 'internal_error' && typeof error.extensions.logOnce === 'string') {
    // A mistake of the host's that the library recognised: one line in the log says how to fix
    // it; the answer, like every 500, says nothing of the server's setup.
    errorOnce(logger, error.extensions.logOnce);
    return problem('internal_error', 500, UNEXPECTED, instance);
  }
  logger.error('express-consent: unexpected error while handling a request', error);
  return problem('internal_error', 500, UNEXPECTED, instance);
}

/** Builds a problem body; extensions never override the standard members. */
export function problem(
  code: ProblemCode,
  status: number,
  detail: string,
  instance: string,
  extensions: Record<string, unknown> = {},
): ProblemBody {
  const body: ProblemBody = { type: `urn:express-consent:${code}`, title: PROBLEM_TITLES[code], status, detail, code, instance };
  for (const [key, value] of Object.entries(extensions)) {
    if (!(key in body)) body[key] = value;
  }
  return body;
}

/** The language a problem is told in: the catalog and the locale the request prefers. */
export interface ProblemWords {
  catalog: Catalog;
  locale: string;
}

/**
 * The words of the request's language (`Accept-Language`, and a well-formed `?lang=` on the
 * router's own routes): a problem's title, and the details written for people, are shown in it.
 */
export function problemWords(req: Request, catalog: Catalog, readQuery = false): ProblemWords {
  const ranges = readQuery ? lenientRanges(req) : acceptedRanges(req.get('accept-language'));
  return { catalog, locale: lookup(ranges, catalog.locales) ?? 'en' };
}

// Details that speak to the person rather than the developer: they follow the request's language.
const PEOPLE_DETAILS: Partial<Record<ProblemCode, MessageKey>> = {
  store_unavailable: 'detail.store_unavailable',
  internal_error: 'detail.internal_error',
};

/** Whether `localizeProblem` gives this code's detail in the words' language (else it stays English). */
export function detailLocalized(code: ProblemCode): boolean {
  return PEOPLE_DETAILS[code] !== undefined;
}

/** The problem with its title (and a detail written for people) in the words' language. */
export function localizeProblem(body: ProblemBody, words: ProblemWords): ProblemBody {
  const { catalog, locale } = words;
  const detailKey = PEOPLE_DETAILS[body.code];
  return {
    ...body,
    title: catalog.text(locale, `problem.${body.code}`),
    ...(detailKey ? { detail: catalog.text(locale, detailKey) } : {}),
  };
}

/**
 * Sends a problem as `application/problem+json` (with `Retry-After` for 503 and 429); with
 * `words`, in their language (`Content-Language` says which).
 */
export function sendProblem(res: Response, problemBody: ProblemBody, words?: ProblemWords): void {
  const body = words ? localizeProblem(problemBody, words) : problemBody;
  if (words) res.set('Content-Language', words.locale);
  if (body.status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
  if (body.code === 'rate_limited') res.set('Retry-After', String(body.retryAfter));
  res.set('Cache-Control', 'no-store');
  // It quotes the request's own address (`instance`): never read as anything but JSON.
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Not res.send(): a no-store answer needs no ETag hashed from its body, nor a freshness check.
  const text = JSON.stringify(body);
  res.statusCode = body.status;
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Converts a thrown value and sends it. */
export function answerError(req: Request, res: Response, error: unknown, logger: ConsentLogger, catalog?: Catalog): void {
  sendProblem(res, toProblem(error, req.originalUrl, logger), catalog ? problemWords(req, catalog, true) : undefined);
}
