import type { Request } from 'express';
import { MAX_SUBJECT_LENGTH, normalizeSubject } from '../core/input';
import { inVisitorNamespace, VISITOR_PREFIX } from '../core/visitor-id';
import type { CacheLink } from '../core/state-cache';
import { ConsentError } from '../errors';
import type { ResolvedOptions } from '../options';
import { visitorTransport, type VisitorCookies, type VisitorTransport } from './visitor-cookies';
import { atMostCharacters } from '../characters';

/**
 * Who a request is about: a subject from the `subject` hook, or a visitor. `id` is null for a
 * visitor without a valid cookie: nobody stored yet (a write gives them an id and the cookie).
 */
export type RequestSubject =
  | { id: string; visitor: false }
  | { id: string | null; visitor: true; transport: Exclude<VisitorTransport, null> };

/**
 * Resolves "subject or visitor" for a request: the `subject` hook first; when it yields
 * nothing and visitors are on, the visitor the request's cookie proves (or a new one). The
 * router, the guard and `collect()` all go through it.
 */
export class SubjectResolver {
  constructor(
    private readonly hook: ResolvedOptions['subject'],
    private readonly visitors: VisitorCookies | null,
    /** Resolves once the keys are loaded (the visitor cookie's key comes from the secret). */
    private readonly keysLoaded: () => Promise<void>,
  ) {}

  /** Whether visitors are on. */
  get visitorsOn(): boolean {
    return this.visitors !== null;
  }

  /** The request's subject or visitor. @throws ConsentError as `subjectFromValue` does. */
  resolve(req: Request): Promise<RequestSubject> {
    let value: unknown;
    try {
      value = this.hook(req);
    } catch (error) {
      return Promise.reject(hookThrew(error));
    }
    return this.settle(req, value);
  }

  /** Like `resolve`, from what the hook returned (a value or a promise). */
  async settle(req: Request, value: unknown): Promise<RequestSubject> {
    let resolved: unknown;
    try {
      resolved = await value;
    } catch (error) {
      throw hookThrew(error);
    }
    if (this.visitors !== null && isNothing(resolved)) await this.keysLoaded();
    return this.fromValue(req, resolved);
  }

  /**
   * Like `resolve`, from the hook's (awaited) value; synchronous. A visitor's cookie is read
   * only after the keys are loaded (the guard's fast path runs only then).
   */
  fromValue(req: Request, value: unknown): RequestSubject {
    if (this.visitors === null || !isNothing(value)) return { id: subjectFromValue(value), visitor: false };
    const transport = transportOf(req);
    return { id: this.visitors.read(req, transport), visitor: true, transport };
  }

  /**
   * The guard's hot path: like `fromValue`, the state-cache link of the subject or visitor
   * (`linkOf(id)`), or null for a visitor without a valid cookie at `now`. A verified cookie
   * keeps its visitor's link, so a returning visitor costs one map lookup.
   */
  linkFromValue(req: Request, value: unknown, now: number, linkOf: (id: string) => CacheLink): CacheLink | null {
    if (this.visitors === null || !isNothing(value)) return linkOf(subjectFromValue(value));
    const visitor = this.visitors.visitor(req, transportOf(req), now);
    return visitor === null ? null : (visitor.link ??= linkOf(visitor.id));
  }
}

function transportOf(req: Request): Exclude<VisitorTransport, null> {
  const transport = visitorTransport(req);
  if (transport === null) {
    throw new ConsentError('no_subject', 'no subject: sign in first (visitors are recognised over HTTPS only, or over plain HTTP on a loopback address)');
  }
  return transport;
}

const isNothing = (value: unknown): boolean => value === null || value === undefined || value === '';

/** The error for a `subject` hook that threw (or whose promise rejected). */
export function hookThrew(error: unknown): ConsentError {
  return new ConsentError('internal_error', 'the subject hook threw', { cause: error });
}

const RESERVED_DETAIL = `the subject hook returned an id in the reserved visitor namespace (ids starting with "${VISITOR_PREFIX}")`;
const RESERVED_LOG = `express-consent: the subject hook returned an id starting with "${VISITOR_PREFIX}", a prefix reserved for visitors (with or without the visitors option), so each such request answers 500 internal_error. Fix: return your subjects' ids in another form, for example prefixed ("user:" + id).`;

/**
 * Checks a value the `subject` hook returned (already awaited).
 * @throws ConsentError `no_subject` (401) for `null`, `undefined` or `""`; `invalid_subject`
 *   (answered as 400 `invalid_body`) for a string holding a lone surrogate; `internal_error`
 *   for any other value, and for an id in the visitors' namespace (`visitor:…`), which a hook
 *   may never return: a broken hook never passes as a subject.
 */
export function subjectFromValue(value: unknown): string {
  const subject = normalizeSubject(value);
  if (subject !== null) {
    if (inVisitorNamespace(subject)) {
      throw new ConsentError('internal_error', RESERVED_DETAIL, { extensions: { logOnce: RESERVED_LOG } });
    }
    return subject;
  }
  if (isNothing(value)) {
    throw new ConsentError('no_subject', 'no subject: sign in first');
  }
  // Such a string usually comes from what the client sent (a header, a decoded token): the
  // request is at fault, not the host's hook.
  if (typeof value === 'string' && atMostCharacters(value, MAX_SUBJECT_LENGTH)) {
    throw new ConsentError('invalid_subject', 'the subject id of this request is not well-formed Unicode (it holds a lone surrogate)');
  }
  const what = typeof value === 'string' ? `an id longer than ${String(MAX_SUBJECT_LENGTH)} characters` : `an unusable ${typeof value}`;
  throw new ConsentError('internal_error', `the subject hook returned ${what}: return the person's id (a string of 1–${String(MAX_SUBJECT_LENGTH)} characters, or a safe integer), not an object holding it, and null when there is none`);
}
