import { isIPv6 } from 'node:net';
import type { Request } from 'express';
import { rateLimited, WriteLimiter } from '../core/write-limiter';

/**
 * The address a new visitor is counted under: an IPv4 address as it is (an IPv4-mapped IPv6
 * one unwrapped); an IPv6 address by its /56, the smallest block a provider commonly hands one
 * customer, who could otherwise take a new address for every request.
 */
export function addressKey(ip: string | undefined): string {
  if (ip === undefined) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.replace(/%.*$/, '').split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  const [a, b, c, d] = groups.map((g) => parseInt(g, 16) || 0) as [number, number, number, number];
  return `${a.toString(16)}:${b.toString(16)}:${c.toString(16)}:${(d & 0xff00).toString(16)}::/56`;
}

/**
 * Bounds how many visitors one client address can start per window (`rateLimit.newVisitors`):
 * each first write without a cookie makes a new visitor, and with it a new chain in the store.
 * Counted in this process's memory, like the per-subject limit.
 */
export class NewVisitorLimit {
  private readonly limiter: WriteLimiter;

  constructor(perWindow: number, windowMs: number, private readonly now: () => number) {
    this.limiter = new WriteLimiter(perWindow, windowMs);
  }

  /**
   * Counts a new visitor from the request's address (`req.ip`, so `trust proxy` decides).
   * @throws ConsentError `rate_limited` (429, `retryAfter` seconds) beyond the limit; nothing counted then.
   */
  admit(req: Request): void {
    const waitMs = this.limiter.take(addressKey(req.ip), this.now());
    if (waitMs > 0) throw rateLimited(waitMs, 'too many new visitors from this address');
  }

  /** Gives back the visitor `admit(req)` counted when its write was refused: no visitor started. */
  giveBack(req: Request): void {
    this.limiter.giveBack(addressKey(req.ip));
  }
}
