/**
 * Paths that cannot leave the origin they are served from. Browsers parse URLs leniently (the
 * WHATWG URL Standard): they delete tabs and newlines anywhere, trim controls and spaces, read
 * `\` as `/`, and resolve `.` and `..` segments, so `/\evil.example`, `/<TAB>/evil.example` and
 * `/..//evil.example` reach another host or become `//host` once serialised. The rule refuses
 * every character a browser would rewrite instead of predicting what it makes of them.
 */

/** A base only this module uses: a path resolved against it must keep its origin. */
const BASE = 'http://local.invalid';

// Backslash, C0 controls and space, DEL, C1 controls, and any other Unicode whitespace.
// eslint-disable-next-line no-control-regex -- the controls are exactly what browsers strip
const REWRITTEN = /[\\\u0000-\u0020\u007f-\u009f]|\s/u;

/**
 * Whether `value` is a path that stays on the current origin wherever it is used (a link, a
 * redirect, a form action): it starts with a single `/`, holds no backslash, control character
 * or whitespace, and does not start with `//` once a browser resolved its dot segments.
 * Query and fragment are allowed.
 *
 * @example isLocalPath('/preferences?next=%2Fbooks') // true
 * @example isLocalPath('/\\evil.example') // false: browsers read it as //evil.example
 */
export function isLocalPath(value: unknown): boolean {
  if (typeof value !== 'string' || value[0] !== '/' || value[1] === '/' || REWRITTEN.test(value)) return false;
  try {
    const resolved = new URL(value, BASE);
    return resolved.origin === BASE && !resolved.pathname.startsWith('//');
  } catch {
    return false;
  }
}

/**
 * Whether `value` names a character a browser drops or rewrites while parsing a URL (see
 * `isLocalPath`); absolute URLs holding one may not mean what they show.
 */
export function hasRewrittenCharacter(value: string): boolean {
  return REWRITTEN.test(value);
}

/**
 * The path and query of a request target, as a local path. An absolute-form target
 * (`GET http://host/path HTTP/1.1`, what forwarding proxies receive, and Express keeps in
 * `req.originalUrl`) loses its origin; `/` when what is left could still leave the origin.
 */
export function localTarget(target: string): string {
  if (isLocalPath(target)) return target;
  try {
    const url = new URL(target, BASE);
    const path = `${url.pathname}${url.search}`;
    return isLocalPath(path) ? path : '/';
  } catch {
    return '/';
  }
}
