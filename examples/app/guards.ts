import type { NextFunction, Request, Response } from 'express';

/** Sends visitors to the sign-in page, remembering where they wanted to go. */
export function signedIn(req: Request, res: Response, next: NextFunction): void {
  if (req.session.userId) return next();
  res.redirect(303, `/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
}

/** A local path to return to after a form, or null: never another site (no open redirect). */
export function localPath(value: unknown): string | null {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return null;
  return value.length <= 512 ? value : null;
}
