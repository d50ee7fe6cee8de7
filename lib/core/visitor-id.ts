import { randomBytes } from 'node:crypto';

/**
 * Visitor ids start with this prefix. The `subject` hook may never return an id that starts
 * with it, so no signed-in subject can ever be taken for a visitor, or the other way round.
 */
export const VISITOR_PREFIX = 'visitor:';

const VISITOR_ID = /^visitor:[A-Za-z0-9_-]{22}$/;

/** A new visitor id: the prefix and 128 random bits (base64url). */
export function newVisitorId(): string {
  return VISITOR_PREFIX + randomBytes(16).toString('base64url');
}

/** Whether `value` is a visitor id as `newVisitorId` makes them. */
export function isVisitorId(value: unknown): value is string {
  return typeof value === 'string' && VISITOR_ID.test(value);
}

/** Whether a subject id falls in the visitors' namespace (and so cannot name a host's subject). */
export function inVisitorNamespace(subjectId: string): boolean {
  return subjectId.startsWith(VISITOR_PREFIX);
}
