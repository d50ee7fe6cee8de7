import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { ConsentError } from '../errors';

/** Runs middleware one after the other, like a route does, then `done` (with the first error). */
export function runEach(handlers: readonly RequestHandler[], req: Request, res: Response, done: (error?: unknown) => void): void {
  const step = (index: number) => (error?: unknown) => {
    const handler = handlers[index];
    if (error !== undefined || handler === undefined) { done(error); return; }
    handler(req, res, step(index + 1) as NextFunction);
  };
  step(0)();
}

/** The segment at `index` of the request's path (`/me/x` has `me` at 1), as sent: percent-encoded. */
export const pathSegment = (req: Request, index: number): string => req.path.split('/')[index] ?? '';

/** 404 `unknown_requirement` for a requirement id in a path that is not valid percent-encoding. */
export function undecodableRequirement(segment: string): ConsentError {
  return new ConsentError('unknown_requirement', 'the requirement id in the path is not valid percent-encoding', {
    status: 404,
    extensions: { ids: [segment] },
  });
}

/**
 * Express (4 and 5) fails with a URIError when a path parameter is not valid percent-encoding,
 * before any of the route's own handlers run. For a request whose path matches `path` (and
 * whose method is one of `methods`, when given), this runs the checks that route runs first
 * (`before`: the body rules, the subject, authorization), so that they answer in their usual
 * order, and then refuses the parameter with `refusal(req)`.
 */
export function pathParameterErrors(
  path: RegExp,
  methods: readonly string[] | null,
  before: readonly RequestHandler[],
  refusal: (req: Request) => unknown,
): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (!(error instanceof URIError) || !path.test(req.path) || (methods !== null && !methods.includes(req.method))) { next(error); return; }
    runEach(before, req, res, (refused) => { next(refused ?? refusal(req)); });
  };
}
