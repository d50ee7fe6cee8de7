/** The error codes that can reach an HTTP response as a problem+json `code`. */
export type ProblemCode =
  | 'invalid_body'
  | 'no_subject'
  | 'forbidden'
  | 'consent_required'
  | 'unknown_requirement'
  | 'token_invalid'
  | 'version_mismatch'
  | 'token_expired'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'mandatory_missing'
  | 'rate_limited'
  | 'internal_error'
  | 'store_unavailable';

/** Every error code the library uses: the problem codes, and those that are only thrown. */
export type ConsentErrorCode =
  | ProblemCode
  | 'invalid_subject'
  | 'invalid_argument'
  | 'invalid_option'
  | 'invalid_requirement'
  | 'duplicate_requirement'
  | 'registry_sealed'
  | 'text_changed'
  | 'version_downgrade'
  | 'schema_mismatch'
  | 'secret_required';

const STATUS: Record<ConsentErrorCode, number> = {
  invalid_body: 400,
  no_subject: 401,
  forbidden: 403,
  consent_required: 403,
  unknown_requirement: 404,
  token_invalid: 404,
  version_mismatch: 409,
  token_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  mandatory_missing: 422,
  rate_limited: 429,
  internal_error: 500,
  store_unavailable: 503,
  invalid_subject: 400,
  invalid_argument: 400,
  invalid_option: 500,
  invalid_requirement: 500,
  duplicate_requirement: 500,
  registry_sealed: 500,
  text_changed: 500,
  version_downgrade: 500,
  schema_mismatch: 500,
  secret_required: 500,
};

/** Options of a `ConsentError`. */
export interface ConsentErrorOptions {
  status?: number;
  cause?: unknown;
  /** Extra members of the problem+json body (`ids`, `missing`, `errors`…). */
  extensions?: Record<string, unknown>;
}

/**
 * Marks every `ConsentError`. `Symbol.for` keys are shared by the whole process, so an error built
 * by one copy of the library (its CommonJS build, or a second install) is recognised by another.
 */
const BRAND = Symbol.for('express-consent.error');

/**
 * The base of every error the library throws or sends.
 *
 * @example
 * try { await consent.record(id, { nope: 'granted' }); }
 * catch (e) { if (e instanceof ConsentError && e.code === 'unknown_requirement') … }
 */
export class ConsentError extends Error {
  override name = 'ConsentError';
  readonly code: ConsentErrorCode;
  readonly status: number;
  readonly extensions: Record<string, unknown>;

  constructor(code: ConsentErrorCode, message: string, options: ConsentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.extensions = options.extensions ?? {};
  }

  static {
    // On the prototype, not the instance: logs and `Object.keys` do not show it.
    Object.defineProperty(this.prototype, BRAND, { value: true });
  }
}

/** Misconfiguration found at startup: bad options, requirements or database schema. */
export class ConsentConfigError extends ConsentError {
  override name = 'ConsentConfigError';
}

/** Storage failed or timed out. Never to be read as consent. */
export class ConsentStoreError extends ConsentError {
  override name = 'ConsentStoreError';
  constructor(message: string, cause?: unknown) {
    super('store_unavailable', message, { cause });
  }
}

/**
 * A stored row failed its integrity check (an edited state row or requirement version, a moved
 * subject link): read like a storage failure, never as consent. `consent.verify()` names it.
 */
export class ConsentIntegrityError extends ConsentStoreError {
  override name = 'ConsentIntegrityError';
}

/**
 * Tells whether a value is a `ConsentError` (or a subclass), also one thrown by another copy of
 * the library, where `instanceof` answers false: the ESM and CommonJS builds loaded side by side,
 * or two installed versions.
 *
 * @example
 * app.use((err, req, res, next) => res.status(isConsentError(err) ? err.status : 500).end());
 */
export function isConsentError(value: unknown): value is ConsentError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}
