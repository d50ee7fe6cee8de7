import type { NextFunction, Request, Response } from 'express';
import { isConsentError } from '../../lib/index';
import { html } from './html';
import { page } from './layout';

/**
 * The status an error stands for: a ConsentError carries its own (400 for a bad cursor, 503 for
 * the store); Express and its body parsers mark what the client sent (413 too large, 415 an
 * encoding or charset they cannot read, 400 a body or address that does not decode). The rest
 * is ours: 500.
 */
function statusOf(error: unknown): number {
  if (isConsentError(error)) return error.status;
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

function explain(status: number): string {
  if (status === 413) return 'That form is too large. Go back, shorten what you typed and try again.';
  if (status === 415) return 'We cannot read the way that form was sent. Go back, reload the page and try again.';
  if (status === 503) return 'Our records are unavailable for a moment. Please try again shortly.';
  if (status < 500) return 'That address or form is not valid. Go back and try again.';
  return 'Please try again. If it keeps happening, tell us.';
}

/** The example's error page: a readable page with the right status, never a stack trace. */
export function errorPage(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const status = statusOf(error);
  if (status >= 500 && status !== 503) console.error(error);
  res.status(status).send(page(req, 'Something went wrong', html`<h1>Something went wrong</h1><p>${explain(status)}</p>`));
}
