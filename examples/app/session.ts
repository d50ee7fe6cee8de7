import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** What the example keeps in its signed session cookie. */
export interface Session {
  /** The signed-in user's id (the consent subject), or null for a visitor. */
  userId: string | null;
  /** Per-session CSRF token, sent back in every state-changing form. */
  csrf: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    session: Session;
  }
}

const COOKIE = 'example_session';

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function decode(key: Buffer, raw: string | null): Session | null {
  if (!raw) return null;
  const [payload, mac] = raw.split('.');
  if (!payload || !mac) return null;
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { userId, csrf } = value as Record<string, unknown>;
    if (typeof csrf !== 'string' || (userId !== null && typeof userId !== 'string')) return null;
    return { userId, csrf };
  } catch {
    return null;
  }
}

/** Cookie sessions signed with HMAC-SHA-256: no server-side store, no dependency. */
export function sessions(secret: Buffer) {
  const key = createHmac('sha256', secret).update('example-session').digest();

  function save(res: Response, session: Session): void {
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    // SameSite=Strict keeps the cookie off cross-site requests: a second line of CSRF defence.
    res.append('Set-Cookie', `${COOKIE}=${payload}.${sign(key, payload)}; Path=/; HttpOnly; SameSite=Strict`);
  }

  return {
    /** Loads the session, or starts a visitor session with a fresh CSRF token. */
    middleware(req: Request, res: Response, next: NextFunction): void {
      const existing = decode(key, readCookie(req.headers.cookie, COOKIE));
      req.session = existing ?? { userId: null, csrf: randomBytes(24).toString('base64url') };
      if (!existing) save(res, req.session);
      next();
    },
    /** Signs in (or out with null) and rotates the CSRF token, so a pre-login token is useless. */
    switchUser(req: Request, res: Response, userId: string | null): void {
      req.session = { userId, csrf: randomBytes(24).toString('base64url') };
      save(res, req.session);
    },
  };
}

/**
 * Refuses a state-changing request whose form lacks the session's CSRF token, or whose
 * Origin header (sent by every current browser on POST) names another site.
 */
export function checkCsrf(req: Request, res: Response, next: NextFunction): void {
  const origin = req.get('origin');
  const sameOrigin = !origin || origin === `${req.protocol}://${req.get('host')}`;
  const body: unknown = req.body;
  const token = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)._csrf : undefined;
  const expected = Buffer.from(req.session.csrf);
  const given = Buffer.from(typeof token === 'string' ? token : '');
  if (sameOrigin && given.length === expected.length && timingSafeEqual(given, expected)) return next();
  res.status(403).type('text/plain').send('This form has expired or came from another site. Go back, reload the page and try again.');
}
