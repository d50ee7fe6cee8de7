import { createHash } from 'node:crypto';
import type { RequestHandler, Router } from 'express';
import type { Catalog } from '../i18n/catalog';
import { clientScript } from './client/client-words';
import { CLIENT_STYLE } from './client/client-style';
import { jsonBody } from './json-body';

/** One static asset: its bytes, type and a validator that changes whenever they do. */
function asset(body: string, type: string): RequestHandler {
  const bytes = Buffer.from(body, 'utf8');
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`;
  return (req, res) => {
    res.set({
      'Content-Type': type,
      ETag: etag,
      // Public and shared: the same bytes for everyone. A release changes the ETag.
      'Cache-Control': 'public, max-age=3600',
      'X-Content-Type-Options': 'nosniff',
    });
    // res.send answers 304 when If-None-Match holds this ETag (Express 4 and 5).
    res.send(bytes);
  };
}

/**
 * `GET /client.js` and `GET /client.css`: the browser client (banner, dialog, script gating),
 * under the body rules of every route (a request carrying a body must be JSON, at most 16 KiB).
 */
export function addClientRoutes(router: Router, catalog: Catalog): void {
  const body = jsonBody();
  router.get('/client.js', body, asset(clientScript(catalog), 'text/javascript; charset=utf-8'));
  router.get('/client.css', body, asset(CLIENT_STYLE, 'text/css; charset=utf-8'));
}
