import type { Request, RequestHandler } from 'express';
import { problem, sendProblem } from './problem';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The host (and port) of an `Origin` header value, or null for `null` and anything unparsable. */
function originHost(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : null;
  } catch {
    return null;
  }
}

/**
 * Whether a browser sent the request from another origin. Modern browsers say so in
 * `Sec-Fetch-Site`: only `same-origin` (and `none`, a navigation the user started) pass; a
 * `same-site` request comes from a sibling subdomain or port, which may well be someone else's.
 * Without that header the `Origin` header must name this host. A request with neither (curl, a
 * server, an old browser's plain navigation) is not a browser acting for a page and passes.
 */
export function isCrossSite(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  const host = originHost(origin);
  return host === null || host !== req.headers.host?.toLowerCase();
}

/**
 * Refuses state-changing requests (anything but GET, HEAD and OPTIONS) that a browser sent from
 * another origin: 403 `forbidden`, before the body is read. The JSON-only bodies already stop
 * plain cross-site forms; this also stops what a page could send with the visitor's cookie.
 */
export const sameOriginWrites: RequestHandler = (req, res, next) => {
  if (SAFE_METHODS.has(req.method) || !isCrossSite(req)) { next(); return; }
  const detail = 'a state-changing request from another site is refused: send it from a page of this origin';
  sendProblem(res, problem('forbidden', 403, detail, req.originalUrl));
};
