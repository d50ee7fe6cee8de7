import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Wraps an async handler so that a rejection reaches `next(err)`. Express 5 does this itself,
 * Express 4 does not: without the wrapper a rejection there would hang the request.
 */
export function asyncHandler(handler: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    handler(req, res, next).catch(next);
  };
}
