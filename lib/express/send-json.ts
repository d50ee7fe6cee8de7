import type { RequestHandler, Response } from 'express';

/** Middleware: the answer is not to be stored by any cache (it is someone's own data). */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

const ESCAPED: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' };

/**
 * Answers `value` as JSON with `status`: `res.status(status).json(value)` without what only a
 * cacheable answer needs (an ETag hashed from the body, a freshness check), for answers sent
 * with `Cache-Control: no-store`, which nobody revalidates. The host app's `json replacer`,
 * `json spaces` and `json escape` settings apply as they do to `res.json`. A HEAD request gets
 * the headers alone (Node leaves the body out).
 */
export function sendJson(res: Response, status: number, value: unknown): void {
  const { app } = res;
  const replacer = app.get('json replacer') as ((this: unknown, key: string, value: unknown) => unknown) | undefined;
  const spaces = app.get('json spaces') as string | number | undefined;
  let body = value === undefined ? '' : JSON.stringify(value, replacer, spaces);
  if (app.get('json escape') === true) body = body.replace(/[<>&]/g, (c) => ESCAPED[c] as string);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
