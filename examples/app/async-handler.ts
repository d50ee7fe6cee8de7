import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Express 4 does not catch a rejected promise from a handler (Express 5 does): pass the
 * rejection to `next` so the error page answers instead of the request hanging.
 */
export function handle(fn: (req: Request, res: Response, next: NextFunction) => Promise<unknown>): RequestHandler {
  return (req, res, next) => {
    fn(req, res, next).catch(next);
  };
}
