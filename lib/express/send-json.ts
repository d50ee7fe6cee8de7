import type { Response } from 'express';

/**
 * Answers `value` as JSON with `status`: `res.status(status).json(value)` without what only a
 * cacheable answer needs (an ETag hashed from the body, a freshness check), for answers sent
 * with `Cache-Control: no-store`, which nobody revalidates. A HEAD request gets the headers
 * alone (Node leaves the body out).
 */
export function sendJson(res: Response, status: number, value: unknown): void {
  const body = value === undefined ? '' : JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
