import type { Request } from 'express';
import { systemClock } from './clock';
import { ConsentConfigError } from './errors';
import { TABLE_PREFIX_RULE } from './knex/table-prefix';
import { didYouMean } from './did-you-mean';
import { parsePages } from './pages/options';
import { parseMessages } from './i18n/catalog';
import { parseVisitors } from './options-visitors';
import type { ConsentOptions, ResolvedOptions, SubjectValue } from './options-types';

export type { AdminVerdict, ConsentLogger, ConsentOptions, ResolvedOptions, SubjectValue } from './options-types';

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
  'storeTimeoutMs', 'now', 'network', 'trustedOrigins', 'admin', 'receipts', 'confirm', 'logger',
  'sweep', 'outbox', 'rateLimit', 'pages', 'visitors', 'messages',
] as const;

function bad(option: string, why: string): never {
  throw new ConsentConfigError('invalid_option', `option "${option}" ${why}`, { extensions: { option } });
}

/** `trustedOrigins`: each one an http(s) origin alone, as a browser's `Origin` header names it. */
function parseOrigins(value: unknown): ReadonlySet<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value) || value.length > 100) bad('trustedOrigins', 'must be an array of at most 100 origins');
  return new Set((value as unknown[]).map((origin) => {
    let url: URL | null = null;
    try {
      url = typeof origin === 'string' ? new URL(origin) : null;
    } catch {
      // reported below
    }
    if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== (origin as string).replace(/\/$/, '').toLowerCase()) {
      bad('trustedOrigins', `holds ${JSON.stringify(origin)}: give origins alone, such as "https://app.example.com"`);
    }
    return url.origin;
  }));
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
  onlyKnownKeys(value, 'cache', ['max', 'ttlMs']);
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
  // An environment variable that is set but empty (`CONSENT_SECRET=`) lands here.
  if (buffer.length === 0) bad('secret', 'is empty (an environment variable set to nothing?): give at least 32 bytes, or leave the option out to use a generated development secret outside production');
  if (buffer.length < 32) bad('secret', 'must be at least 32 bytes long');
  return Buffer.from(buffer);
}

const CONFIRM_KEYS = ['ttlMs', 'baseUrl', 'resendAfterMs'];

function parseConfirm(value: ConsentOptions['confirm']): ResolvedOptions['confirm'] {
  if (value === undefined) return { ...DEFAULTS.confirm, baseUrl: null };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (value === null || typeof value !== 'object') bad('confirm', 'must be { ttlMs?, baseUrl?, resendAfterMs? }');
  onlyKnownKeys(value, 'confirm', CONFIRM_KEYS);
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

/** Throws `invalid_option` for a key of `value` that `option` does not have, with a "did you mean". */
function onlyKnownKeys(value: object, option: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = didYouMean(key, known);
    bad(`${option}.${key}`, `is not a ${option} option (${known.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
  }
}

/** Parses `{ key: positive integer }` objects with known keys and defaults. */
function intervals<K extends string>(value: unknown, option: string, defaults: Record<K, number>): Record<K, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(option, `must be { ${Object.keys(defaults).join(', ')} }`);
  const known = Object.keys(defaults);
  const out = { ...defaults };
  onlyKnownKeys(value, option, known);
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
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
  // A prefix given beside a tracker would be ignored: the tracker names its own tables.
  if (input.tracker !== undefined && input.tablePrefix !== undefined) bad('tablePrefix', 'applies to the tables the library opens: with "tracker", give it to the tracker (new KnexTracker(knex, { tablePrefix }))');
  if (input.knex !== undefined && (typeof input.knex !== 'function' || !('client' in input.knex))) {
    bad('knex', 'must be a Knex instance');
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (input.tracker !== undefined && (input.tracker === null || typeof input.tracker.write !== 'function')) {
    bad('tracker', 'must implement ConsentTracker');
  }
  const tablePrefix = input.tablePrefix ?? DEFAULTS.tablePrefix;
  if (typeof tablePrefix !== 'string' || !TABLE_PREFIX_RULE.test(tablePrefix)) {
    bad('tablePrefix', 'must match ^[a-z][a-z0-9_]{0,30}$');
  }
  const autoMigrate = input.autoMigrate ?? DEFAULTS.autoMigrate;
  if (typeof autoMigrate !== 'boolean') bad('autoMigrate', 'must be a boolean');
  const network = input.network ?? DEFAULTS.network;
  if (!['none', 'truncated', 'full'].includes(network)) bad('network', "must be 'none', 'truncated' or 'full'");
  const admin = input.admin ?? null;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (admin !== null && typeof admin?.authorize !== 'function') bad('admin', 'must be { authorize(req) }');
  if (admin !== null) onlyKnownKeys(admin, 'admin', ['authorize']);
  const receipts = input.receipts ?? null;
  if (receipts !== null && (typeof receipts !== 'object' || !receipts.controller)) {
    bad('receipts', 'must be { privateKey, controller }');
  }
  // A misspelt privateKey would otherwise sign with a development key.
  if (receipts !== null) onlyKnownKeys(receipts, 'receipts', ['privateKey', 'controller']);
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
    trustedOrigins: parseOrigins(input.trustedOrigins),
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
