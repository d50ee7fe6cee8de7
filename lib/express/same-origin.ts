import type { Request, RequestHandler } from 'express';
import { problem, sendProblem } from './problem';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin (scheme, host and port, as `URL` writes it) of an HTTP(S) URL, or null for `null` and anything unparsable. */
function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * Whether a browser sent the request from another origin than this one and than `trusted`.
 * Modern browsers say so in `Sec-Fetch-Site`: only `same-origin` (and `none`, a navigation the
 * user started) pass; a `same-site` request comes from a sibling subdomain or port, which may
 * well be someone else's, unless its `Origin` is one the host trusts. Without that header the
 * `Origin` header must name this origin (the request's scheme, by Express's `req.protocol`, which
 * follows `trust proxy`, with its `Host`) or a trusted one. A request with neither (curl, a
 * server, an old browser's plain navigation) is not a browser acting for a page and passes.
 */
export function isCrossSite(req: Request, trusted: ReadonlySet<string> = new Set()): boolean {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  if (typeof origin === 'string' && trusted.has(origin.toLowerCase())) return false;
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  if (typeof origin !== 'string') return false;
  const from = originOf(origin);
  return from === null || from !== originOf(`${req.protocol}://${req.headers.host ?? ''}`);
}

/**
 * Refuses state-changing requests (anything but GET, HEAD and OPTIONS) that a browser sent from
 * another origin than this one and the `trusted` ones: 403 `forbidden`, before the body is read.
 * The JSON-only bodies already stop plain cross-site forms; this also stops what a page could
 * send with the visitor's cookie.
 */
export function sameOriginWrites(trusted: ReadonlySet<string>): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || !isCrossSite(req, trusted)) { next(); return; }
    const detail = 'a state-changing request from another site is refused: send it from a page of this origin (or list it in trustedOrigins)';
    sendProblem(res, problem('forbidden', 403, detail, req.originalUrl));
  };
}
