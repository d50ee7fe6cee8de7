import type { Knex } from 'knex';
import type { Request } from 'express';
import type { PagesOptions, ResolvedPages } from './pages/options';
import type { ConsentTracker } from './tracker/tracker';
import type { Catalog, MessagesOption } from './i18n/catalog';
import type { ResolvedVisitors, VisitorOptions } from './options-visitors';

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
  knex?: Knex | undefined;
  /** A storage of your own instead of Knex (must pass `trackerConformance`). */
  tracker?: ConsentTracker | undefined;
  /** Resolves the subject of a request; may return a Promise. @default req => req.user?.id */
  subject?: ((req: Request) => SubjectValue | Promise<SubjectValue>) | undefined;
  /**
   * At least 32 bytes; keys pseudonyms and the audit chain. Required when
   * `NODE_ENV=production`; elsewhere one is generated once and stored in the database.
   */
  secret?: string | Buffer | undefined;
  /** Prefix of every table. @default 'consent_' */
  tablePrefix?: string | undefined;
  /** `ready()` runs the shipped migrations. @default true */
  autoMigrate?: boolean | undefined;
  /** Per-instance cache of states; `false` disables it. @default { max: 10000, ttlMs: 5000 } */
  cache?: false | { max?: number | undefined; ttlMs?: number | undefined } | undefined;
  /** A storage call slower than this fails as `store_unavailable`. @default 2000 */
  storeTimeoutMs?: number | undefined;
  /** The clock. @default () => new Date() */
  now?: (() => Date) | undefined;
  /** Store the client IP and User-Agent with events. @default 'none' */
  network?: 'none' | 'truncated' | 'full' | undefined;
  /**
   * Origins of your own (`https://app.example.com`) whose pages may send the router's
   * state-changing requests although they are another site than the router's: a front end on
   * a sibling host. Every other cross-site write is refused (403). @default []
   */
  trustedOrigins?: string[] | undefined;
  /**
   * Enables the admin routes: `authorize` answers `true`, or `{ actor }` naming who acts (1–256
   * characters, stored on the decisions staff record); anything else is a 403.
   */
  admin?: { authorize(req: Request): AdminVerdict | Promise<AdminVerdict> } | undefined;
  /** Receipt signing key and the controller named in receipts. */
  receipts?: { privateKey: unknown; controller: { name: string; contact?: string | undefined } | string } | undefined;
  /**
   * Double opt-in: the lifetime of a confirmation link (`ttlMs`); the base URL of links
   * (`baseUrl`); and `resendAfterMs`, during which a repeated request for the same requirement
   * and version re-uses the pending confirmation instead of sending another (`0` sends one for
   * every request, each superseding the last).
   * @default { ttlMs: 172800000, resendAfterMs: 600000 }
   */
  confirm?: { ttlMs?: number | undefined; baseUrl?: string | undefined; resendAfterMs?: number | undefined } | undefined;
  /**
   * Where warnings go. A configuration warning (no `secret`, a development receipts key) is
   * given once per logger: with the default `console`, once per process.
   * @default console
   */
  logger?: ConsentLogger | undefined;
  /**
   * Records an `expire` event for every lapsed grant every `intervalMs` (see `consent.sweep()`);
   * `false` leaves it to the host. @default { intervalMs: 3600000 }
   */
  sweep?: false | { intervalMs?: number | undefined } | undefined;
  /**
   * Delivery of durable (named) event handlers: how often to look for entries, how long a claim
   * lasts, and the first and longest retry delay (exponential backoff).
   * @default { pollMs: 1000, leaseMs: 60000, retryMs: 1000, maxRetryMs: 3600000 }
   */
  outbox?: { pollMs?: number | undefined; leaseMs?: number | undefined; retryMs?: number | undefined; maxRetryMs?: number | undefined } | undefined;
  /**
   * Writes per subject through the router (`PUT`, `POST` and `DELETE` under `/me`) allowed in
   * each window of `windowMs`; more answer 429 `rate_limited` with `Retry-After`. Counted in
   * this process's memory, by pseudonym; `record()` and other calls from your own code are
   * never limited. With `visitors`, `newVisitors` bounds the visitors one client address
   * (`req.ip`; an IPv6 address by its /56) may start in each window, through the router and
   * `collect()`'s `commit()`. `false` turns both off.
   * @default { writes: 1000, newVisitors: 100, windowMs: 60000 }
   */
  rateLimit?: false | { writes?: number | undefined; newVisitors?: number | undefined; windowMs?: number | undefined } | undefined;
  /**
   * The look of the pages the library renders for people (confirmation pages, admin console):
   * your `layout`, a `stylesheet`, the `home` link back to your site.
   * @default { home: { href: '/', text: 'Back to the site' } }
   */
  pages?: PagesOptions | undefined;
  /**
   * Visitors: without a subject from the `subject` hook, the router, the guard and `collect()`
   * identify the person by a signed first-party cookie, set on their first decision (never on a
   * read). `consent.link(req, subjectId)` carries a visitor's decisions to an account.
   * @default false
   */
  visitors?: false | VisitorOptions | undefined;
  /**
   * The library's own words (problem titles, the confirmation pages, `formFields`, the browser
   * client, the console) by locale: English, German and French are built in; give keys to
   * override theirs, or a new locale to add a language (English fills the keys it leaves out).
   * @example { de: { 'form.legend': 'Ihre Zustimmung' } }
   * @default {}
   */
  messages?: MessagesOption | undefined;
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
  /** Origins (`scheme://host[:port]`, as browsers send them) trusted with cross-site writes. */
  trustedOrigins: ReadonlySet<string>;
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
