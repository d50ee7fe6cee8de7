import type { NextFunction, Request, Response } from 'express';
import { isLocalPath } from '../../lib/index';

/** Sends visitors to the sign-in page, remembering where they wanted to go (a local path only). */
export function signedIn(req: Request, res: Response, next: NextFunction): void {
  if (req.session.userId) { next(); return; }
  const back = localPath(req.originalUrl);
  res.redirect(303, back ? `/sign-in?next=${encodeURIComponent(back)}` : '/sign-in');
}

/**
 * A local path to return to after a form, or null: never another site (no open redirect), by
 * the library's rule, so links built from it stay here as the guard's `next` does.
 */
export function localPath(value: unknown): string | null {
  return typeof value === 'string' && value.length <= 512 && isLocalPath(value) ? value : null;
}
