import type { Knex } from 'knex';
import type { Request } from 'express';
import { ConsentConfigError } from './errors';
import { didYouMean } from './did-you-mean';
import { parsePages, type PagesOptions, type ResolvedPages } from './pages/options';
import type { ConsentTracker } from './tracker/tracker';
import { parseMessages, type Catalog, type MessagesOption } from './i18n/catalog';
import { parseVisitors, type ResolvedVisitors, type VisitorOptions } from './options-visitors';

/** What `admin.authorize(req)` answers: `true`, or `{ actor }` to name who acts; anything else refuses. */
export type AdminVerdict = boolean | { actor: string };

/** What the `subject` hook may return: a string or a safe integer; nothing means no subject. */
export type SubjectValue = string | number | null | undefined;

/** Where the library reports warnings and swallowed errors. */
export interface ConsentLogger {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

/** Options of `createConsent()`. Every key is optional; an unknown key throws `invalid_option`. */
export interface ConsentOptions {
  /** Storage. @default an SQLite file `./consent.sqlite3` (driver `sqlite3`) */
  knex?: Knex;
  /** A storage of your own instead of Knex (must pass `trackerConformance`). */
  tracker?: ConsentTracker;
  /** Resolves the subject of a request; may return a Promise. @default req => req.user?.id */
  subject?: (req: Request) => SubjectValue | Promise<SubjectValue>;
  /**
   * At least 32 bytes; keys pseudonyms and the audit chain. Required when
   * `NODE_ENV=production`; elsewhere one is generated once and stored in the database.
   */
  secret?: string | Buffer;
  /** Prefix of every table. @default 'consent_' */
  tablePrefix?: string;
  /** `ready()` runs the shipped migrations. @default true */
  autoMigrate?: boolean;
  /** Per-instance cache of states; `false` disables it. @default { max: 10000, ttlMs: 5000 } */
  cache?: false | { max?: number; ttlMs?: number };
  /** A storage call slower than this fails as `store_unavailable`. @default 2000 */
  storeTimeoutMs?: number;
  /** The clock. @default () => new Date() */
  now?: () => Date;
  /** Store the client IP and User-Agent with events. @default 'none' */
  network?: 'none' | 'truncated' | 'full';
  /**
   * Enables the admin routes: `authorize` answers `true`, or `{ actor }` naming who acts (1–256
   * characters, stored on the decisions staff record); anything else is a 403.
   */
  admin?: { authorize(req: Request): AdminVerdict | Promise<AdminVerdict> };
  /** Receipt signing key and the controller named in receipts. */
  receipts?: { privateKey: unknown; controller: { name: string; contact?: string } | string };
  /**
   * Double opt-in: the lifetime of a confirmation link (`ttlMs`); the base URL of links
   * (`baseUrl`); and `resendAfterMs`, during which a repeated request for the same requirement
   * and version re-uses the pending confirmation instead of sending another (`0` sends one for
   * every request, each superseding the last).
   * @default { ttlMs: 172800000, resendAfterMs: 600000 }
   */
  confirm?: { ttlMs?: number; baseUrl?: string; resendAfterMs?: number };
  /**
   * Where warnings go. A configuration warning (no `secret`, a development receipts key) is
   * given once per logger: with the default `console`, once per process.
   * @default console
   */
  logger?: ConsentLogger;
  /**
   * Records an `expire` event for every lapsed grant every `intervalMs` (see `consent.sweep()`);
   * `false` leaves it to the host. @default { intervalMs: 3600000 }
   */
  sweep?: false | { intervalMs?: number };
  /**
   * Delivery of durable (named) event handlers: how often to look for entries, how long a claim
   * lasts, and the first and longest retry delay (exponential backoff).
   * @default { pollMs: 1000, leaseMs: 60000, retryMs: 1000, maxRetryMs: 3600000 }
   */
  outbox?: { pollMs?: number; leaseMs?: number; retryMs?: number; maxRetryMs?: number };
  /**
   * Writes per subject through the router (`PUT`, `POST` and `DELETE` under `/me`) allowed in
   * each window of `windowMs`; more answer 429 `rate_limited` with `Retry-After`. Counted in
   * this process's memory, by pseudonym; `record()` and other calls from your own code are
   * never limited. With `visitors`, `newVisitors` bounds the visitors one client address
   * (`req.ip`; an IPv6 address by its /56) may start in each window, through the router and
   * `collect()`'s `commit()`. `false` turns both off.
   * @default { writes: 1000, newVisitors: 100, windowMs: 60000 }
   */
  rateLimit?: false | { writes?: number; newVisitors?: number; windowMs?: number };
  /**
   * The look of the pages the library renders for people (confirmation pages, admin console):
   * your `layout`, a `stylesheet`, the `home` link back to your site.
   * @default { home: { href: '/', text: 'Back to the site' } }
   */
  pages?: PagesOptions;
  /**
   * Visitors: without a subject from the `subject` hook, the router, the guard and `collect()`
   * identify the person by a signed first-party cookie, set on their first decision (never on a
   * read). `consent.link(req, subjectId)` carries a visitor's decisions to an account.
   * @default false
   */
  visitors?: false | VisitorOptions;
  /**
   * The library's own words (problem titles, the confirmation pages, `formFields`, the browser
   * client, the console) by locale: English, German and French are built in; give keys to
   * override theirs, or a new locale to add a language (English fills the keys it leaves out).
   * @example { de: { 'form.legend': 'Ihre Zustimmung' } }
   * @default {}
   */
  messages?: MessagesOption;
}

/** Options after parsing: every default resolved. */
export interface ResolvedOptions {
  knex: Knex | null;
  tracker: ConsentTracker | null;
  subject: (req: Request) => SubjectValue | Promise<SubjectValue>;
  secret: Buffer | null;
  tablePrefix: string;
  autoMigrate: boolean;
  cache: { max: number; ttlMs: number } | null;
  storeTimeoutMs: number;
  now: () => Date;
  network: 'none' | 'truncated' | 'full';
  admin: { authorize(req: Request): AdminVerdict | Promise<AdminVerdict> } | null;
  receipts: ConsentOptions['receipts'] | null;
  confirm: { ttlMs: number; baseUrl: string | null; resendAfterMs: number };
  logger: ConsentLogger;
  sweep: { intervalMs: number } | null;
  outbox: { pollMs: number; leaseMs: number; retryMs: number; maxRetryMs: number };
  rateLimit: { writes: number; newVisitors: number; windowMs: number } | null;
  pages: ResolvedPages;
  visitors: ResolvedVisitors | null;
  /** The catalog of the library's words. */
  messages: Catalog;
  production: boolean;
}

/** The default clock; the engine recognises it and reads `Date.now()` without a Date. */
export const systemClock = (): Date => new Date();

/** The defaults, in one place. */
export const DEFAULTS = {
  tablePrefix: 'consent_',
  autoMigrate: true,
  cache: { max: 10_000, ttlMs: 5_000 },
  storeTimeoutMs: 2_000,
  network: 'none',
  confirm: { ttlMs: 172_800_000, resendAfterMs: 600_000 },
  sqliteFile: './consent.sqlite3',
  sweep: { intervalMs: 3_600_000 },
  outbox: { pollMs: 1_000, leaseMs: 60_000, retryMs: 1_000, maxRetryMs: 3_600_000 },
  rateLimit: { writes: 1_000, newVisitors: 100, windowMs: 60_000 },
} as const;

const KEYS = [
  'knex', 'tracker', 'subject', 'secret', 'tablePrefix', 'autoMigrate', 'cache',
  'storeTimeoutMs', 'now', 'network', 'admin', 'receipts', 'confirm', 'logger',
  'sweep', 'outbox', 'rateLimit', 'pages', 'visitors', 'messages',
] as const;

function bad(option: string, why: string): never {
  throw new ConsentConfigError('invalid_option', `option "${option}" ${why}`, { extensions: { option } });
}

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    bad(option, 'must be a positive integer');
  }
  return value;
}

function nonNegativeInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    bad(option, 'must be a non-negative integer');
  }
  return value;
}

function parseCache(value: ConsentOptions['cache']): ResolvedOptions['cache'] {
  if (value === false) return null;
  if (value === undefined) return { ...DEFAULTS.cache };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (value === null || typeof value !== 'object') bad('cache', 'must be false or { max, ttlMs }');
  for (const key of Object.keys(value)) {
    if (key !== 'max' && key !== 'ttlMs') bad(`cache.${key}`, 'is not a cache option (max, ttlMs)');
  }
  return {
    max: value.max === undefined ? DEFAULTS.cache.max : positiveInteger(value.max, 'cache.max'),
    ttlMs: value.ttlMs === undefined ? DEFAULTS.cache.ttlMs : positiveInteger(value.ttlMs, 'cache.ttlMs'),
  };
}

function parseSecret(value: unknown, production: boolean): Buffer | null {
  if (value === undefined || value === null) {
    if (production) {
      throw new ConsentConfigError(
        'secret_required',
        'NODE_ENV=production needs the "secret" option (at least 32 bytes, e.g. from a secret manager)',
      );
    }
    return null;
  }
  const buffer = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.isBuffer(value) ? value : null;
  if (!buffer) bad('secret', 'must be a string or a Buffer');
  if (buffer.length < 32) bad('secret', 'must be at least 32 bytes long');
  return Buffer.from(buffer);
}

const CONFIRM_KEYS = ['ttlMs', 'baseUrl', 'resendAfterMs'];

function parseConfirm(value: ConsentOptions['confirm']): ResolvedOptions['confirm'] {
  if (value === undefined) return { ...DEFAULTS.confirm, baseUrl: null };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (value === null || typeof value !== 'object') bad('confirm', 'must be { ttlMs?, baseUrl?, resendAfterMs? }');
  for (const key of Object.keys(value)) {
    if (!CONFIRM_KEYS.includes(key)) {
      const hint = didYouMean(key, CONFIRM_KEYS);
      bad(`confirm.${key}`, `is not a confirm option (${CONFIRM_KEYS.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
    }
  }
  const ttlMs = value.ttlMs === undefined ? DEFAULTS.confirm.ttlMs : positiveInteger(value.ttlMs, 'confirm.ttlMs');
  const resendAfterMs =
    value.resendAfterMs === undefined ? DEFAULTS.confirm.resendAfterMs : nonNegativeInteger(value.resendAfterMs, 'confirm.resendAfterMs');
  let baseUrl: string | null = null;
  if (value.baseUrl !== undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- JavaScript callers pass what the types forbid
      const url = new URL(String(value.baseUrl));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- JavaScript callers pass what the types forbid
      baseUrl = String(value.baseUrl).replace(/\/+$/, '');
    } catch {
      bad('confirm.baseUrl', 'must be an absolute http(s) URL');
    }
  }
  return { ttlMs, baseUrl, resendAfterMs };
}

/** Parses `{ key: positive integer }` objects with known keys and defaults. */
function intervals<K extends string>(value: unknown, option: string, defaults: Record<K, number>): Record<K, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(option, `must be { ${Object.keys(defaults).join(', ')} }`);
  const known = Object.keys(defaults);
  const out = { ...defaults };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!known.includes(key)) {
      const hint = didYouMean(key, known);
      bad(`${option}.${key}`, `is not a ${option} option (${known.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
    }
    if (v !== undefined) out[key as K] = positiveInteger(v, `${option}.${key}`);
  }
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller's type names the function just checked
function fn<T>(value: unknown, option: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') bad(option, 'must be a function');
  return value as T;
}

/**
 * Resolves every option once, at creation time. Never mutates `input`.
 * @throws ConsentConfigError `invalid_option` (with a "did you mean") or `secret_required`.
 */
export function parseOptions(input: ConsentOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (input === null || typeof input !== 'object') bad('options', 'must be an object');
  for (const key of Object.keys(input)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const hint = didYouMean(key, KEYS);
      bad(key, `is not an option of createConsent${hint ? `; did you mean "${hint}"?` : ''}`);
    }
  }
  const production = env.NODE_ENV === 'production';
  if (input.knex !== undefined && input.tracker !== undefined) bad('tracker', 'cannot be combined with "knex"');
  if (input.knex !== undefined && (typeof input.knex !== 'function' || !('client' in input.knex))) {
    bad('knex', 'must be a Knex instance');
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (input.tracker !== undefined && (input.tracker === null || typeof input.tracker.write !== 'function')) {
    bad('tracker', 'must implement ConsentTracker');
  }
  const tablePrefix = input.tablePrefix ?? DEFAULTS.tablePrefix;
  if (typeof tablePrefix !== 'string' || !/^[a-z][a-z0-9_]{0,30}$/.test(tablePrefix)) {
    bad('tablePrefix', 'must match ^[a-z][a-z0-9_]{0,30}$');
  }
  const autoMigrate = input.autoMigrate ?? DEFAULTS.autoMigrate;
  if (typeof autoMigrate !== 'boolean') bad('autoMigrate', 'must be a boolean');
  const network = input.network ?? DEFAULTS.network;
  if (!['none', 'truncated', 'full'].includes(network)) bad('network', "must be 'none', 'truncated' or 'full'");
  const admin = input.admin ?? null;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (admin !== null && typeof admin?.authorize !== 'function') bad('admin', 'must be { authorize(req) }');
  const receipts = input.receipts ?? null;
  if (receipts !== null && (typeof receipts !== 'object' || !receipts.controller)) {
    bad('receipts', 'must be { privateKey, controller }');
  }
  const logger = input.logger ?? console;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (typeof logger?.warn !== 'function' || typeof logger?.error !== 'function') {
    bad('logger', 'must have warn() and error()');
  }
  return {
    knex: input.knex ?? null,
    tracker: input.tracker ?? null,
    subject: fn(input.subject, 'subject') ?? ((req: Request) => (req as { user?: { id?: SubjectValue } }).user?.id),
    secret: parseSecret(input.secret, production),
    tablePrefix,
    autoMigrate,
    cache: parseCache(input.cache),
    storeTimeoutMs:
      input.storeTimeoutMs === undefined ? DEFAULTS.storeTimeoutMs : positiveInteger(input.storeTimeoutMs, 'storeTimeoutMs'),
    now: fn(input.now, 'now') ?? systemClock,
    network,
    admin,
    receipts,
    confirm: parseConfirm(input.confirm),
    logger,
    sweep: input.sweep === false ? null : intervals(input.sweep ?? {}, 'sweep', { ...DEFAULTS.sweep }),
    outbox: intervals(input.outbox ?? {}, 'outbox', { ...DEFAULTS.outbox }),
    // null is refused rather than read as "the default": it may well mean "no limit".
    rateLimit: input.rateLimit === false ? null : intervals(input.rateLimit === undefined ? {} : input.rateLimit, 'rateLimit', { ...DEFAULTS.rateLimit }),
    pages: parsePages(input.pages),
    visitors: parseVisitors(input.visitors),
    messages: parseMessages(input.messages),
    production,
  };
}
