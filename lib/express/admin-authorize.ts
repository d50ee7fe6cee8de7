import type { Request, RequestHandler } from 'express';
import type { ConsentEngine } from '../core/engine';
import { storableText } from '../core/input';
import { ConsentError } from '../errors';
import { asyncHandler } from './async-handler';
import type { ReadyGate } from './ready-gate';
import { atMostCharacters } from '../characters';

// The actor `authorize` named for a request, for the routes after it.
const actors = new WeakMap<Request, string | null>();

/** The actor of an authorized admin request (null when `authorize` answered `true`). */
export function adminActor(req: Request): string | null {
  return actors.get(req) ?? null;
}

/** `true` → no actor; `{ actor }` with a usable name → that actor; anything else → refused (undefined). */
function verdictActor(verdict: unknown): string | null | undefined {
  if (verdict === true) return null;
  if (verdict === null || typeof verdict !== 'object') return undefined;
  const keys = Object.keys(verdict);
  const { actor } = verdict as { actor?: unknown };
  if (keys.length !== 1 || typeof actor !== 'string' || actor.length === 0 || !atMostCharacters(actor, 256) || !storableText(actor)) return undefined;
  return actor;
}

/**
 * Admin authorization, shared by the admin routes and the console: `admin.authorize(req)` must
 * answer `true` or `{ actor }` (a string of 1–256 characters); anything else, or a throw, is
 * 403 `forbidden`. Then waits for `ready()`.
 */
export function adminAuthorization(engine: ConsentEngine, gate: ReadyGate, what: string): RequestHandler {
  const admin = engine.options.admin;
  return asyncHandler(async (req, _res, next) => {
    let verdict: unknown = false;
    try {
      verdict = await admin?.authorize(req);
    } catch (error) {
      engine.options.logger.warn(`express-consent: admin.authorize threw, answering 403: ${String(error)}`);
    }
    const actor = verdictActor(verdict);
    if (actor === undefined) throw new ConsentError('forbidden', `${what} needs authorization`);
    actors.set(req, actor);
    await gate.serving();
    next();
  });
}
