import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** The console's user name; the password comes from ADMIN_PASSWORD or is generated at start. */
export const ADMIN_USER = 'admin';

function credentials(req: Request): string {
  const header = req.get('authorization') ?? '';
  return header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
}

/**
 * HTTP Basic authentication for the admin routes and console: `authorize` for the library,
 * and `challenge`, mounted in front of them, which asks the browser for the password.
 */
export function adminAccess(password: string) {
  const expected = Buffer.from(`${ADMIN_USER}:${password}`);
  const authorize = (req: Request): boolean => {
    const given = Buffer.from(credentials(req));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return {
    authorize,
    challenge: (req: Request, res: Response, next: NextFunction): void => {
      if (authorize(req)) { next(); return; }
      res.status(401).set('WWW-Authenticate', 'Basic realm="Bookshelf consent console", charset="UTF-8"').type('text/plain')
        .send('The consent console needs the administrator password (printed when the example started, or ADMIN_PASSWORD).');
    },
  };
}
