import { ConsentConfigError } from './errors';
import { didYouMean } from './did-you-mean';

/** The `visitors` option: people who have not signed in, identified by a signed cookie. */
export interface VisitorOptions {
  /**
   * Name of the visitor cookie. Over HTTPS it is sent as `__Host-<cookie>` (`Secure`, `Path=/`,
   * no `Domain`); over plain HTTP only to a loopback address (development), under this name.
   * @default 'consent_visitor'
   */
  cookie?: string | undefined;
  /**
   * Days a visitor is remembered after their last decision: the cookie's `Max-Age`, also
   * checked on the server from the signed time inside it. @default 395 (13 months)
   */
  maxAgeDays?: number | undefined;
}

/** The `visitors` option resolved. */
export interface ResolvedVisitors {
  /** The cookie's name over plain HTTP (loopback only). */
  plainName: string;
  /** The cookie's name over HTTPS (`__Host-` prefixed). */
  secureName: string;
  maxAgeDays: number;
}

/** Defaults of the `visitors` option. */
export const VISITOR_DEFAULTS = { cookie: 'consent_visitor', maxAgeDays: 395 } as const;

const KEYS = ['cookie', 'maxAgeDays'];

// A cookie-name token (RFC 6265), without the prefixes the library adds itself.
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

function bad(option: string, why: string): never {
  throw new ConsentConfigError('invalid_option', `option "${option}" ${why}`, { extensions: { option } });
}

/** Parses the `visitors` option: `false` or absent turns visitors off. */
export function parseVisitors(value: unknown): ResolvedVisitors | null {
  if (value === undefined || value === false) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('visitors', 'must be false or { cookie?, maxAgeDays? }');
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key)) {
      const hint = didYouMean(key, KEYS);
      bad(`visitors.${key}`, `is not a visitors option (${KEYS.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
    }
  }
  const cookie = input.cookie ?? VISITOR_DEFAULTS.cookie;
  if (typeof cookie !== 'string' || !COOKIE_NAME.test(cookie) || /^__(host|secure)-/i.test(cookie)) {
    bad('visitors.cookie', 'must be a cookie name of 1–64 token characters, without a __Host- or __Secure- prefix (added over HTTPS)');
  }
  const days = input.maxAgeDays ?? VISITOR_DEFAULTS.maxAgeDays;
  if (typeof days !== 'number' || !Number.isSafeInteger(days) || days <= 0 || days > 400) {
    // Browsers cap a cookie's lifetime at 400 days (RFC 6265bis).
    bad('visitors.maxAgeDays', 'must be a whole number of days from 1 to 400');
  }
  return { plainName: cookie, secureName: `__Host-${cookie}`, maxAgeDays: days };
}
