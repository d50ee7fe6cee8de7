import type { Request, RequestHandler } from 'express';
import type { ConsentEngine } from '../core/engine';
import { ConsentError } from '../errors';
import { asyncHandler } from './async-handler';
import type { ReadyGate } from './ready-gate';
import { atMostCharacters, storableText } from '../characters';
import { warnOnce } from '../core/warn-once';

// The actor `authorize` named for a request, for the routes after it.
const actors = new WeakMap<Request, string | null>();

/** The actor of an authorized admin request (null when `authorize` answered `true`). */
export function adminActor(req: Request): string | null {
  return actors.get(req) ?? null;
}

/**
 * `true` → no actor; `{ actor }` with a usable name → that actor; anything else → refused, with
 * what was wrong with it unless it was a plain refusal (`false`, `null`, `undefined`).
 */
function verdictActor(verdict: unknown): { actor: string | null } | { refused: string | null } {
  if (verdict === true) return { actor: null };
  if (verdict === false || verdict === null || verdict === undefined) return { refused: null };
  if (typeof verdict !== 'object') return { refused: `a ${typeof verdict}` };
  const keys = Object.keys(verdict);
  if (keys.length !== 1 || keys[0] !== 'actor') return { refused: `an object with the keys [${keys.join(', ')}]` };
  const { actor } = verdict as { actor: unknown };
  if (typeof actor !== 'string') return { refused: `{ actor } whose actor is a ${actor === null ? 'null' : typeof actor}` };
  if (actor.length === 0) return { refused: '{ actor } whose actor is empty' };
  if (!atMostCharacters(actor, 256)) return { refused: '{ actor } whose actor is over 256 characters' };
  if (!storableText(actor)) return { refused: '{ actor } whose actor holds characters that cannot be stored' };
  return { actor };
}

/** `verdictActor`, with a verdict that throws as it is read (a getter, a proxy) refused. */
function readVerdict(verdict: unknown): ReturnType<typeof verdictActor> {
  try {
    return verdictActor(verdict);
  } catch {
    return { refused: 'a value that threw as it was read' };
  }
}

/** What was thrown, as text for the log; a value that throws as it is printed is named as such. */
function thrownText(error: unknown): string {
  try {
    return String(error);
  } catch {
    return 'a value that cannot be printed';
  }
}

/**
 * Admin authorization, shared by the admin routes and the console: `admin.authorize(req)` must
 * answer `true` or `{ actor }` (a string of 1–256 characters); anything else, or a throw, is
 * 403 `forbidden` (a malformed verdict, not `false`, `null` or `undefined`, is reported once
 * through `logger.warn`). Then waits for `ready()` (503 when it failed); with `settledOnly`, only for it
 * to settle, so that the route checks what was sent before it answers 503 itself.
 */
export function adminAuthorization(engine: ConsentEngine, gate: ReadyGate, what: string, settledOnly = false): RequestHandler {
  const admin = engine.options.admin;
  return asyncHandler(async (req, _res, next) => {
    let verdict: unknown = false;
    try {
      verdict = await admin?.authorize(req);
    } catch (error) {
      engine.options.logger.warn(`express-consent: admin.authorize threw, answering 403: ${thrownText(error)}`);
    }
    const answer = readVerdict(verdict);
    if ('refused' in answer) {
      // A verdict the host meant as a yes, but malformed, would otherwise fail without a word.
      if (answer.refused !== null) warnOnce(engine.options.logger, `express-consent: admin.authorize answered ${answer.refused}, which is neither true nor { actor } (a string of 1–256 characters): answering 403`);
      throw new ConsentError('forbidden', `${what} needs authorization`);
    }
    actors.set(req, answer.actor);
    await (settledOnly ? gate.settled() : gate.serving());
    next();
  });
}
