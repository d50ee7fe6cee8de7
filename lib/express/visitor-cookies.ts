import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { hmacHex } from '../audit/keys';
import { VISITOR_PREFIX } from '../core/visitor-id';
import type { ResolvedVisitors } from '../options-visitors';

const DAY_MS = 86_400_000;
// Another process of the same app may run a little ahead of this one.
const CLOCK_SKEW_MS = 300_000;
// 128 bits of the HMAC, in hex: plenty for a value that is checked online only.
const MAC_LENGTH = 32;
// Cookie values whose HMAC was checked, kept so that a returning visitor costs a lookup.
const VERIFIED_MAX = 4096;
const COOKIE_VALUE = /^([A-Za-z0-9_-]{22})\.([0-9a-z]{1,12})\.([0-9a-f]{32})$/;

/** How a request may carry the visitor cookie: over HTTPS, over plain HTTP on loopback, or not at all. */
export type VisitorTransport = 'secure' | 'plain' | null;

const isLoopbackIp = (ip: string | undefined): boolean =>
  ip === '127.0.0.1' || ip === '::ffff:127.0.0.1' || ip === '::1' || (ip !== undefined && /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(ip));

const isLoopbackHost = (host: string | undefined): boolean => {
  const name = (host ?? '').replace(/^\[|\]$/g, '').toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackIp(name);
};

/**
 * The transport of a request for the visitor cookie. `req.secure` and `req.ip` follow Express's
 * `trust proxy` setting, so a TLS-terminating proxy counts as HTTPS once the app trusts it.
 * Plain HTTP needs both ends on loopback: a development server, never a public one.
 */
export function visitorTransport(req: Request): VisitorTransport {
  if (req.secure) return 'secure';
  return isLoopbackIp(req.ip) && isLoopbackHost(req.hostname) ? 'plain' : null;
}

/** The value of the first cookie called `name` in a Cookie header, or null. */
function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  let from = 0;
  for (;;) {
    const at: number = header.indexOf(name, from);
    if (at < 0) return null;
    const end = at + name.length;
    const starts = at === 0 || header[at - 1] === ' ' || header[at - 1] === ';';
    if (starts && header[end] === '=') {
      const stop = header.indexOf(';', end);
      return header.slice(end + 1, stop < 0 ? undefined : stop).trim();
    }
    from = end;
  }
}

/**
 * The visitor cookie: `<id>.<issued>.<mac>`, where `issued` is when it was last set (epoch ms,
 * base 36) and `mac` an HMAC of both under a key derived from the secret. A cookie that does
 * not verify, or was issued more than `maxAgeDays` ago, is no cookie at all.
 */
export class VisitorCookies {
  private readonly verified = new Map<string, { id: string; issuedAt: number }>();

  constructor(
    private readonly config: ResolvedVisitors,
    private readonly key: () => Buffer,
    private readonly now: () => number,
  ) {}

  /** The visitor id the request's cookie proves, or null (no cookie, forged, expired). */
  read(req: Request, transport: Exclude<VisitorTransport, null>): string | null {
    const value = cookieValue(req.headers.cookie, transport === 'secure' ? this.config.secureName : this.config.plainName);
    if (value === null) return null;
    const known = this.verified.get(value) ?? this.verify(value);
    if (known === null) return null;
    const now = this.now();
    return known.issuedAt <= now + CLOCK_SKEW_MS && now - known.issuedAt < this.config.maxAgeDays * DAY_MS ? known.id : null;
  }

  /** Checks a cookie value's HMAC; remembers it when it holds. */
  private verify(value: string): { id: string; issuedAt: number } | null {
    const parts = COOKIE_VALUE.exec(value);
    if (parts === null) return null;
    const [, id = '', issued = '', mac = ''] = parts;
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(this.mac(id, issued)))) return null;
    const known = { id: VISITOR_PREFIX + id, issuedAt: parseInt(issued, 36) };
    // The oldest entry goes first (a Map iterates in insertion order).
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(value, known);
    return known;
  }

  /** Sets (or renews) the cookie of `visitorId` on the response. */
  write(res: Response, transport: Exclude<VisitorTransport, null>, visitorId: string): void {
    const id = visitorId.slice(VISITOR_PREFIX.length);
    const issued = this.now().toString(36);
    const maxAge = this.config.maxAgeDays * 86_400;
    const value = `${id}.${issued}.${this.mac(id, issued)}`;
    const cookie = transport === 'secure'
      ? `${this.config.secureName}=${value}; Max-Age=${String(maxAge)}; Path=/; Secure; HttpOnly; SameSite=Lax`
      : `${this.config.plainName}=${value}; Max-Age=${String(maxAge)}; Path=/; HttpOnly; SameSite=Lax`;
    res.append('Set-Cookie', cookie);
  }

  private mac(id: string, issued: string): string {
    return hmacHex(this.key(), `${id}.${issued}`).slice(0, MAC_LENGTH);
  }
}
