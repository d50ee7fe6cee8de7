import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { SessionStore } from './session-store';

/** What the example keeps in its signed session cookie. */
export interface Session {
  /** The signed-in user's id (the consent subject), or null for a visitor. */
  userId: string | null;
  /** Per-session CSRF token, sent back in every state-changing form. */
  csrf: string;
  /** The server-side session of a signed-in user (see `SessionStore`), null for a visitor. */
  sid: string | null;
}

declare module 'express-serve-static-core' {
  interface Request {
    session: Session;
  }
}

/** Options of `sessions()`. */
export interface SessionOptions {
  /** How long a session lasts, signed in or not, from its start. @default 604800 (7 days) */
  maxAgeSeconds?: number;
  /** The clock. @default () => new Date() */
  now?: () => Date;
}

const COOKIE = 'example_session';

/** The cookie's content: the session and when it ends (epoch ms), under the signature. */
type Signed = Session & { exp: number };

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

function decode(key: Buffer, raw: string | null): Signed | null {
  if (!raw) return null;
  const [payload, mac] = raw.split('.');
  if (!payload || !mac) return null;
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { userId, csrf, sid, exp } = value as Record<string, unknown>;
    if (typeof csrf !== 'string' || typeof exp !== 'number') return null;
    // A signed-in session always names its server-side session; a visitor's never does.
    if (!(userId === null && sid === null) && !(typeof userId === 'string' && typeof sid === 'string')) return null;
    return { userId, csrf, sid, exp };
  } catch {
    return null;
  }
}

const newCsrf = (): string => randomBytes(24).toString('base64url');

/**
 * Sessions in a cookie signed with HMAC-SHA-256 that ends after `maxAgeSeconds` (in the
 * browser and, through the signed end time, on the server). A signed-in session also names a
 * row of `store`, which sign-out deletes: a copied cookie then no longer works.
 */
export function sessions(secret: Buffer, store: SessionStore, options: SessionOptions = {}) {
  const key = createHmac('sha256', secret).update('example-session').digest();
  const maxAgeSeconds = options.maxAgeSeconds ?? 7 * 24 * 60 * 60;
  if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds <= 0) throw new Error('sessions: maxAgeSeconds must be a positive integer');
  const now = () => (options.now ?? (() => new Date()))().getTime();

  const endOfNewSession = () => now() + maxAgeSeconds * 1000;

  function save(req: Request, res: Response, session: Session, exp: number): void {
    const payload = Buffer.from(JSON.stringify({ ...session, exp })).toString('base64url');
    // SameSite=Strict keeps the cookie off cross-site requests: a second line of CSRF defence.
    // req.secure honours 'trust proxy': behind a TLS-terminating proxy the cookie stays on HTTPS.
    const secure = req.secure ? '; Secure' : '';
    res.append('Set-Cookie', `${COOKIE}=${payload}.${sign(key, payload)}; Path=/; Max-Age=${String(maxAgeSeconds)}; HttpOnly; SameSite=Strict${secure}`);
  }

  async function load(req: Request): Promise<Session | null> {
    const cookie = decode(key, readCookie(req.headers.cookie, COOKIE));
    if (!cookie || cookie.exp <= now()) return null;
    const { userId, csrf, sid } = cookie;
    if (userId !== null && (sid === null || !(await store.isLive(sid, userId, now())))) return null;
    return { userId, csrf, sid };
  }

  return {
    /** Loads the session, or starts a visitor session with a fresh CSRF token. */
    middleware: (req: Request, res: Response, next: NextFunction): void => {
      load(req).then((existing) => {
        req.session = existing ?? { userId: null, csrf: newCsrf(), sid: null };
        if (!existing) save(req, res, req.session, endOfNewSession());
        next();
      }, next);
    },
    /**
     * Signs in (or out with null): ends the current server-side session, starts another for a
     * user, and rotates the CSRF token, so a pre-login token is useless.
     */
    async switchUser(req: Request, res: Response, userId: string | null): Promise<void> {
      if (req.session.sid) await store.end(req.session.sid);
      const exp = endOfNewSession();
      const sid = userId === null ? null : await store.start(userId, exp, now());
      req.session = { userId, csrf: newCsrf(), sid };
      save(req, res, req.session, exp);
    },
  };
}

/**
 * Refuses a state-changing request whose form lacks the session's CSRF token, or whose
 * Origin header (sent by every current browser on POST) names another site.
 */
export function checkCsrf(req: Request, res: Response, next: NextFunction): void {
  const origin = req.get('origin');
  const sameOrigin = !origin || origin === `${req.protocol}://${String(req.get('host'))}`;
  const body: unknown = req.body;
  const token = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)._csrf : undefined;
  const expected = Buffer.from(req.session.csrf);
  const given = Buffer.from(typeof token === 'string' ? token : '');
  if (sameOrigin && given.length === expected.length && timingSafeEqual(given, expected)) { next(); return; }
  res.status(403).type('text/plain').send('This form has expired or came from another site. Go back, reload the page and try again.');
}
