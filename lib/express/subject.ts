import type { Request } from 'express';
import { MAX_SUBJECT_LENGTH, normalizeSubject } from '../core/input';
import { ConsentError } from '../errors';
import type { ResolvedOptions } from '../options';

/**
 * Resolves the subject of a request through the `subject` hook: a string of
 * 1–256 characters of well-formed Unicode, or a safe integer converted with `String`.
 *
 * @throws ConsentError `no_subject` (401) for `null`, `undefined` or `""`; `invalid_subject`
 *   (answered as 400 `invalid_body`) for a string holding a lone surrogate; `internal_error`
 *   for any other value or a throwing hook, so that a broken hook never passes as a subject.
 */
export async function resolveSubject(req: Request, options: ResolvedOptions): Promise<string> {
  let value: unknown;
  try {
    value = await options.subject(req);
  } catch (error) {
    throw hookThrew(error);
  }
  return subjectFromValue(value);
}

/** The error for a `subject` hook that threw (or whose promise rejected). */
export function hookThrew(error: unknown): ConsentError {
  return new ConsentError('internal_error', 'the subject hook threw', { cause: error });
}

/**
 * Checks a value the `subject` hook returned (already awaited).
 * @throws ConsentError as `resolveSubject` does.
 */
export function subjectFromValue(value: unknown): string {
  const subject = normalizeSubject(value);
  if (subject !== null) return subject;
  if (value === null || value === undefined || value === '') {
    throw new ConsentError('no_subject', 'no subject: sign in first');
  }
  // Such a string usually comes from what the client sent (a header, a decoded token): the
  // request is at fault, not the host's hook.
  if (typeof value === 'string' && value.length <= MAX_SUBJECT_LENGTH) {
    throw new ConsentError('invalid_subject', 'the subject id of this request is not well-formed Unicode (it holds a lone surrogate)');
  }
  throw new ConsentError('internal_error', `the subject hook returned an unusable ${typeof value}`);
}
