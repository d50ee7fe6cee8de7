import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { hmacHex } from '../audit/keys';
import type { CacheLink } from '../core/state-cache';
import { VISITOR_PREFIX } from '../core/visitor-id';
import type { ResolvedVisitors } from '../options-visitors';

const DAY_MS = 86_400_000;
// Another process of the same app may run a little ahead of this one.
const CLOCK_SKEW_MS = 300_000;
// 128 bits of the HMAC, in hex: plenty for a value that is checked online only.
const MAC_LENGTH = 32;
// Cookie values whose HMAC was checked that are remembered at most.
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

// The last Host header seen and whether it names loopback: a server sees the same few values.
let lastHost: string | undefined;
let lastHostLoopback = false;

/** Whether a Host header (port and all) names a loopback address, as `req.hostname` would parse it. */
function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === lastHost) return lastHostLoopback;
  const offset = host !== undefined && host.startsWith('[') ? host.indexOf(']') + 1 : 0;
  const colon = host === undefined ? -1 : host.indexOf(':', offset);
  const loopback = isLoopbackHost(colon < 0 ? host : host?.slice(0, colon));
  lastHost = host;
  lastHostLoopback = loopback;
  return loopback;
}

/**
 * The transport of a request for the visitor cookie. `req.secure` and `req.ip` follow Express's
 * `trust proxy` setting, so a TLS-terminating proxy counts as HTTPS once the app trusts it.
 * Plain HTTP needs both ends on loopback: a development server, never a public one.
 */
export function visitorTransport(req: Request): VisitorTransport {
  const { headers } = req;
  const socket = req.socket as { encrypted?: boolean; remoteAddress?: string } | undefined;
  // Without X-Forwarded-* headers, `req.secure`, `req.ip` and `req.hostname` are the socket's
  // and the Host header's whatever `trust proxy` says; the getters would parse addresses on
  // every request of the guard's hot path to find that out.
  if (socket !== undefined && headers['x-forwarded-proto'] === undefined && headers['x-forwarded-for'] === undefined && headers['x-forwarded-host'] === undefined) {
    if (socket.encrypted === true) return 'secure';
    return isLoopbackIp(socket.remoteAddress) && isLoopbackHostHeader(headers.host) ? 'plain' : null;
  }
  if (req.secure) return 'secure';
  return isLoopbackIp(req.ip) && isLoopbackHost(req.hostname) ? 'plain' : null;
}

/** A string of its own, sharing no memory with the one it was cut from. */
const copy = (text: string): string => Buffer.from(text, 'latin1').toString('latin1');

const isBlank = (code: number): boolean => code === 0x20 || code === 0x09;

/**
 * Whether a cookie's name can start at `at`: at the header's start or after a `;`, blanks
 * between. Inside another cookie's value (`planted=x name=…`, which a sibling subdomain can set)
 * it does not.
 */
function startsCookie(header: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && isBlank(header.charCodeAt(i))) i -= 1;
  return i < 0 || header.charCodeAt(i) === 0x3b;
}

/** Where the value of the first cookie called `name` starts in a Cookie header, or -1. */
function valueStart(header: string, name: string): number {
  let from = 0;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at < 0) return -1;
    const end = at + name.length;
    if (startsCookie(header, at) && header.charCodeAt(end) === 0x3d) {
      let start = end + 1;
      while (isBlank(header.charCodeAt(start))) start += 1;
      return start;
    }
    from = end;
  }
}

/** Where the cookie value starting at `start` ends (before `;` and trailing blanks). */
function valueEnd(header: string, start: number): number {
  const semicolon = header.indexOf(';', start);
  let end = semicolon < 0 ? header.length : semicolon;
  while (end > start && isBlank(header.charCodeAt(end - 1))) end -= 1;
  return end;
}

// The last 7 characters of a value (in a genuine cookie, 28 random bits of its MAC) as a number:
// the verified cookies are found by it without cutting the value out of the header.
function tailKey(header: string, start: number, end: number): number {
  let key = 0;
  for (let i = Math.max(start, end - 7); i < end; i += 1) key = key * 16 + (header.charCodeAt(i) & 0xf);
  return key;
}

/**
 * A cookie value whose HMAC checked: the visitor it names and the instants between which it
 * counts. The guard keeps the visitor's state-cache link on it, so that a returning visitor
 * costs one map lookup, as a signed-in subject does.
 */
export interface VerifiedVisitor {
  readonly id: string;
  /** Counts from this instant (when it was issued, less the clock skew allowed). */
  readonly from: number;
  /** Counts until just before this instant (`maxAgeDays` after it was issued). */
  readonly until: number;
  link: CacheLink | null;
}

interface Verified extends VerifiedVisitor {
  /** The cookie value. */
  readonly value: string;
}

/**
 * The visitor cookie: `<id>.<issued>.<mac>`, where `issued` is when it was last set (epoch ms,
 * base 36) and `mac` an HMAC of both under a key derived from the secret. A cookie that does
 * not verify, or was issued more than `maxAgeDays` ago, is no cookie at all.
 */
export class VisitorCookies {
  // Cookie values whose HMAC checked, by `tailKey`: a returning visitor costs a lookup and a
  // comparison in place. Two values with the same key take turns (each check replaces the other).
  private readonly verified = new Map<number, Verified>();

  /**
   * `plainWritten`: called when a cookie is set over plain HTTP (on loopback); in production,
   * a warning that a proxy on the same host is not trusted (see `visitorTransport`).
   */
  constructor(
    private readonly config: ResolvedVisitors,
    private readonly key: () => Buffer,
    private readonly now: () => number,
    private readonly plainWritten: () => void = () => undefined,
  ) {}

  /** The visitor id the request's cookie proves, or null (no cookie, forged, expired). */
  read(req: Request, transport: Exclude<VisitorTransport, null>): string | null {
    return this.visitor(req, transport, this.now())?.id ?? null;
  }

  /** The visitor the request's cookie proves at `now`, or null (no cookie, forged, expired). */
  visitor(req: Request, transport: Exclude<VisitorTransport, null>, now: number): VerifiedVisitor | null {
    const header = req.headers.cookie;
    if (header === undefined) return null;
    const start = valueStart(header, transport === 'secure' ? this.config.secureName : this.config.plainName);
    if (start < 0) return null;
    const end = valueEnd(header, start);
    const key = tailKey(header, start, end);
    let known: Verified | null | undefined = this.verified.get(key);
    if (known === undefined || known.value.length !== end - start || !header.startsWith(known.value, start)) {
      known = this.verify(header.slice(start, end), key);
    }
    return known !== null && known.from <= now && now < known.until ? known : null;
  }

  /** Checks a cookie value's HMAC; remembers it when it holds. */
  private verify(value: string, key: number): Verified | null {
    const parts = COOKIE_VALUE.exec(value);
    if (parts === null) return null;
    const [, id = '', issued = '', mac = ''] = parts;
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(this.mac(id, issued)))) return null;
    const issuedAt = parseInt(issued, 36);
    // Copies: slices of the header would keep the whole Cookie header of that request alive.
    const known = { value: copy(value), id: copy(VISITOR_PREFIX + id), from: issuedAt - CLOCK_SKEW_MS, until: issuedAt + this.config.maxAgeDays * DAY_MS, link: null };
    // The oldest entry goes first (a Map iterates in insertion order).
    if (this.verified.size >= VERIFIED_MAX && !this.verified.has(key)) this.verified.delete(this.verified.keys().next().value as number);
    this.verified.set(key, known);
    return known;
  }

  /** Sets (or renews) the cookie of `visitorId` on the response. */
  write(res: Response, transport: Exclude<VisitorTransport, null>, visitorId: string): void {
    const id = visitorId.slice(VISITOR_PREFIX.length);
    const issued = this.now().toString(36);
    const maxAge = this.config.maxAgeDays * 86_400;
    const value = `${id}.${issued}.${this.mac(id, issued)}`;
    if (transport === 'plain') this.plainWritten();
    const cookie = transport === 'secure'
      ? `${this.config.secureName}=${value}; Max-Age=${String(maxAge)}; Path=/; Secure; HttpOnly; SameSite=Lax`
      : `${this.config.plainName}=${value}; Max-Age=${String(maxAge)}; Path=/; HttpOnly; SameSite=Lax`;
    res.append('Set-Cookie', cookie);
  }

  private mac(id: string, issued: string): string {
    return hmacHex(this.key(), `${id}.${issued}`).slice(0, MAC_LENGTH);
  }
}
