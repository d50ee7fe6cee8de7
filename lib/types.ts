/**
 * Shared types of express-consent.
 *
 * Glossary
 * - **Requirement**: something that needs a lawful basis (usually consent), registered in code
 *   with a stable id, a version and human-readable text.
 * - **Subject**: the person deciding; an opaque id supplied by the host application. It is
 *   stored only as a keyed pseudonym.
 * - **Decision**: `granted` or `denied`, by a subject, for one version of one requirement.
 * - **Event**: one append-only history entry (grant, deny, withdraw, request, confirm, expire,
 *   erase).
 * - **State**: the current position of a subject on a requirement, derived from events.
 * - **Tracker**: the storage behind the library (Knex by default).
 * - **Guard**: `requireConsent(id)` middleware that lets a request through only when allowed.
 *
 * @packageDocumentation
 */

/** What a subject decides. */
export type Decision = 'granted' | 'denied';

/** The kind of a history event. */
export type Action = 'grant' | 'deny' | 'withdraw' | 'request' | 'confirm' | 'expire' | 'erase';

/** The current position of a subject on a requirement, derived from its events. */
export type State = 'unset' | 'denied' | 'pending' | 'outdated' | 'expired' | 'granted';

/** GDPR Art. 6 lawful bases. */
export type LawfulBasis =
  | 'consent'
  | 'legitimate_interests'
  | 'contract'
  | 'legal_obligation'
  | 'vital_interests'
  | 'public_task';

/** Where an event came from. */
export type Source = 'api' | 'form' | 'app' | 'admin' | 'gpc' | 'sweep' | 'import' | 'confirm' | 'link';

/** Who is responsible for the processing (GDPR Art. 13(1)(a)). */
export interface ControllerInfo {
  name: string;
  /** How to reach them: an address, an email, a URL. */
  contact?: string | null | undefined;
}

/**
 * What GDPR Art. 13 asks to tell a person, as a requirement version may carry it: at the top of
 * a definition for every locale, or in `texts[locale]` for that locale.
 */
export interface InformationFields {
  /** Who asks. */
  controller?: ControllerInfo | null | undefined;
  /** What the data is used for. */
  purposes?: string[] | null | undefined;
  /** Which data is concerned. */
  dataCategories?: string[] | null | undefined;
  /** Who receives it. */
  recipients?: string[] | null | undefined;
  /** How long it is kept, or how that is decided. */
  retention?: string | null | undefined;
  /** Transfers to countries outside the EU/EEA and their safeguards. */
  transfers?: string | null | undefined;
}

/** A version's text in one locale, as a definition gives it. */
export interface TextDefinition extends InformationFields {
  /** 1–200 characters. */
  title: string;
  /** 1–5000 characters. */
  description: string;
  /** Absolute http(s) URL or a path starting with `/`. */
  url?: string | null | undefined;
}

/** A version's text in one locale, every field present (null when absent). */
export interface LocalizedText {
  title: string;
  description: string;
  url: string | null;
  controller: { name: string; contact: string | null } | null;
  purposes: string[] | null;
  dataCategories: string[] | null;
  recipients: string[] | null;
  retention: string | null;
  transfers: string | null;
}

/** A requirement as the host registers it. */
export interface RequirementDefinition extends InformationFields {
  /** Stable code, `^[a-z0-9][a-z0-9._-]{0,63}$`. */
  id: string;
  /** Positive integer; bump when the text changes. @default 1 */
  version?: number | undefined;
  /** What the person is asked (1–200 characters), in `defaultLocale`; required unless `texts` gives that locale. */
  title?: string | undefined;
  /** What it means for them (1–5000 characters), in `defaultLocale`; required unless `texts` gives that locale. */
  description?: string | undefined;
  /** Absolute http(s) URL or a path starting with `/`. @default null */
  url?: string | null | undefined;
  /**
   * The text in several locales (`{ en: { title, description }, de: { … } }`). All of them, with
   * the Art. 13 fields, are the version's text: changing any needs a new version.
   */
  texts?: Record<string, TextDefinition> | undefined;
  /** The locale of the flat `title`/`description`, shown when no other matches. @default the first key of `texts`, else 'en' */
  defaultLocale?: string | undefined;
  /**
   * When this version becomes the current one (Date, epoch ms, or an ISO-8601 date or date-time, UTC without a zone). Before it, the
   * previous version stays current; register both. @default current at once
   */
  effectiveFrom?: Date | string | number | null | undefined;
  /** @default 'consent' */
  lawfulBasis?: LawfulBasis | undefined;
  /** `collect()` refuses a form that does not grant it. @default false */
  mandatory?: boolean | undefined;
  /** A grant stops counting this many days after it was given. @default null */
  expiresAfterDays?: number | null | undefined;
  /** A grant is `pending` until confirmed. @default false */
  doubleOptIn?: boolean | undefined;
  /** `Sec-GPC: 1` counts as a refusal. @default false */
  gpc?: boolean | undefined;
}

/** A validated requirement with every field present: `title` to `transfers` in `defaultLocale`. */
export interface Requirement {
  id: string;
  version: number;
  title: string;
  description: string;
  url: string | null;
  controller: LocalizedText['controller'];
  purposes: string[] | null;
  dataCategories: string[] | null;
  recipients: string[] | null;
  retention: string | null;
  transfers: string | null;
  defaultLocale: string;
  /** Every locale of the text, the default first. */
  locales: string[];
  /** The text in every locale. */
  texts: Record<string, LocalizedText>;
  /** When this version became (or becomes) current; null: from its registration. */
  effectiveFrom: string | null;
  lawfulBasis: LawfulBasis;
  mandatory: boolean;
  expiresAfterDays: number | null;
  doubleOptIn: boolean;
  gpc: boolean;
}

/** An extension's bundle of requirements, registered with `consent.use()`. */
export interface ConsentExtension {
  /** Names the registrant in error messages. */
  name: string;
  requirements: RequirementDefinition[];
}

/** The state of one requirement for one subject. */
export interface StateInfo {
  id: string;
  state: State;
  allowed: boolean;
  version: number | null;
  decidedAt: string | null;
  expiresAt: string | null;
}

/** One history entry as returned to callers. */
export interface ConsentEvent {
  id: string;
  requirement: string;
  version: number;
  action: Action;
  state: State;
  source: Source;
  actor: string | null;
  at: string;
  note: string | null;
  data: Record<string, unknown> | null;
  /** Where the question was asked (a form name, a page path, a banner version), or null. */
  context: string | null;
  /** The locale of the text the person was shown; null for events without one (sweeps, imports, older events). */
  locale: string | null;
}

/** Optional context of a write. */
export interface RecordMeta {
  /** @default 'app' */
  source?: Source | undefined;
  /** Who made the change when it was not the subject (an admin's id, a job name). */
  actor?: string | null | undefined;
  /** At most 500 characters. */
  note?: string | null | undefined;
  /** A plain JSON object, at most 4096 bytes serialised and 8 levels deep. */
  data?: Record<string, unknown> | null | undefined;
  /**
   * Where the question was asked: a form name, a page path, a banner version (at most 200
   * characters). Covered by the audit chain and kept by erasure: put no personal data in it.
   */
  context?: string | null | undefined;
}

/** A decision for one requirement in `record()`: the bare decision or with the version shown. */
export type DecisionInput = Decision | { decision: Decision; version?: number | undefined; locale?: string | undefined };

/** What `record()` resolves to. */
export interface RecordResult {
  states: Record<string, StateInfo>;
  pending: string[];
}

/** Options of `history()`. */
export interface HistoryOptions {
  requirement?: string | undefined;
  /** 1–200. @default 50 */
  limit?: number | undefined;
  cursor?: string | null | undefined;
}

/** A page of history, newest first. */
export interface HistoryPage {
  events: ConsentEvent[];
  nextCursor: string | null;
}
