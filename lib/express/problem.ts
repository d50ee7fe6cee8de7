import type { Request, Response } from 'express';
import { ConsentError, type ConsentErrorCode, type ProblemCode } from '../errors';
import { errorOnce } from '../core/warn-once';
import type { ConsentLogger } from '../options';

export type { ProblemCode } from '../errors';

/** Short, fixed titles: `detail` says what happened to this request. */
export const PROBLEM_TITLES: Record<ProblemCode, string> = {
  invalid_body: 'Invalid request',
  no_subject: 'No subject',
  forbidden: 'Forbidden',
  consent_required: 'Consent required',
  unknown_requirement: 'Unknown requirement',
  token_invalid: 'Invalid confirmation token',
  version_mismatch: 'Version mismatch',
  token_expired: 'Confirmation token expired',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  mandatory_missing: 'Mandatory consent missing',
  rate_limited: 'Too many requests',
  internal_error: 'Internal error',
  store_unavailable: 'Store unavailable',
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
 * storage errors `store_unavailable`; anything else `internal_error`, logged and never detailed,
 * except a host mistake the library names (an `internal_error` with a `logOnce` line).
 */
export function toProblem(error: unknown, instance: string, logger: ConsentLogger): ProblemBody {
  if (error instanceof ConsentError && (error.code === 'invalid_argument' || error.code === 'invalid_subject')) {
    const errors = Array.isArray(error.extensions.errors) ? error.extensions.errors : [{ pointer: '', detail: error.message }];
    return problem('invalid_body', 400, error.message, instance, { errors });
  }
  if (error instanceof ConsentError && error.code === 'store_unavailable') {
    logger.error('express-consent: the consent store is unavailable', error.cause ?? error);
    return problem('store_unavailable', 503, 'The consent store is unavailable; try again shortly.', instance);
  }
  if (error instanceof ConsentError && isProblemCode(error.code) && error.code !== 'internal_error') {
    return problem(error.code, error.status, error.message, instance, error.extensions);
  }
  if (error instanceof ConsentError && error.code === 'internal_error' && typeof error.extensions.logOnce === 'string') {
    // A mistake of the host's that the library recognised: one line in the log says how to fix
    // it, and the answer names it (without any value of the request).
    errorOnce(logger, error.extensions.logOnce);
    return problem('internal_error', 500, error.message, instance);
  }
  logger.error('express-consent: unexpected error while handling a request', error);
  return problem('internal_error', 500, 'An unexpected error occurred.', instance);
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

/** Sends a problem as `application/problem+json` (with `Retry-After` for 503 and 429). */
export function sendProblem(res: Response, body: ProblemBody): void {
  if (body.status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
  if (body.code === 'rate_limited') res.set('Retry-After', String(body.retryAfter));
  res.set('Cache-Control', 'no-store');
  res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/** Converts a thrown value and sends it. */
export function answerError(req: Request, res: Response, error: unknown, logger: ConsentLogger): void {
  sendProblem(res, toProblem(error, req.originalUrl, logger));
}
