import type { Request } from 'express';
import { ConsentError } from '../errors';
import type { ResolvedOptions } from '../options';

/**
 * Resolves the subject of a request through the `subject` hook (SPEC §4 Subject): a string of
 * 1–256 characters, or a safe integer converted with `String`.
 *
 * @throws ConsentError `no_subject` (401) for `null`, `undefined` or `""`; `internal_error`
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
  if (value === null || value === undefined || value === '') {
    throw new ConsentError('no_subject', 'no subject: sign in first');
  }
  if (typeof value === 'string' && value.length <= 256) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new ConsentError('internal_error', `the subject hook returned an unusable ${typeof value}`);
}
