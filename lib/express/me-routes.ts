import type { Request, RequestHandler, Response, Router } from 'express';
import type { ConsentEngine, WriteOutcome } from '../core/engine';
import { applyGpc } from '../core/gpc';
import { checkDecisions } from '../core/record-decisions';
import { rateLimited, refusedInput, type WriteLimiter } from '../core/write-limiter';
import type { StateInfo } from '../types';
import { asyncHandler } from './async-handler';
import { parseHistoryQuery, parsePostBody, parsePutBody, requireNoBody, type WriteBody } from './body-shape';
import { carriesBody, jsonBody } from './json-body';
import { hasGpc, writeContext } from './network';
import { pathParameterErrors, pathSegment, undecodableRequirement } from './path-errors';
import { noStore, sendJson } from './send-json';
import type { ReadyGate } from './ready-gate';
import type { RequestSubject, SubjectResolver } from './subject';
import type { NewVisitorLimit } from './new-visitors';
import type { VisitorCookies } from './visitor-cookies';
import { newVisitorId } from '../core/visitor-id';

// Everything under /me is personal: no shared cache may keep it.

const bodyOf = (req: Request): unknown => (carriesBody(req) ? (req.body as unknown) : undefined);

/** How the routes tell who a request is about, and set a visitor's cookie. */
export interface MeRouteSubjects {
  resolver: SubjectResolver;
  cookies: VisitorCookies | null;
  /** Counts the visitors each address starts (`rateLimit.newVisitors`); null when unlimited. */
  newVisitors: NewVisitorLimit | null;
}

/**
 * The subject's own routes. The subject comes only from the `subject` hook, or for a visitor
 * from the signed cookie: no path segment, query parameter, header or body field can name
 * another subject. With a `limiter`, each subject's writes are counted, and refused (before
 * anything is recorded) beyond the limit. A visitor's cookie is set (or renewed) by a write that
 * succeeded, never by a read.
 */
export function addMeRoutes(router: Router, engine: ConsentEngine, gate: ReadyGate, subjects: MeRouteSubjects, limiter: WriteLimiter | null = null): void {
  const body = jsonBody();
  const { resolver, cookies } = subjects;

  /**
   * Counts a write of the subject, and a new visitor from the request's address, or throws
   * `rate_limited` (429) with the seconds to wait.
   */
  function countWrite(req: Request, who: RequestSubject, subject: string): void {
    if (who.visitor && who.id === null) subjects.newVisitors?.admit(req);
    const waitMs = limiter?.take(engine.pseudonym(subject), engine.now()) ?? 0;
    if (waitMs > 0) throw rateLimited(waitMs, 'too many writes for this subject');
  }

  /** Gives back what `countWrite` counted for a write that was refused and recorded nothing. */
  function uncountWrite(req: Request, who: RequestSubject, subject: string): void {
    if (who.visitor && who.id === null) subjects.newVisitors?.giveBack(req);
    limiter?.giveBack(engine.pseudonym(subject));
  }

  /**
   * The subject or visitor of a read, and its input checked by `parse`; then a `Sec-GPC: 1`
   * request records the signal's refusals (not before: a request refused for its input changes
   * nothing). A visitor without a cookie has nothing stored: null (and nothing is written).
   */
  async function reader<T>(req: Request, parse: () => T): Promise<{ subject: string | null; input: T }> {
    const who = await resolver.resolve(req);
    // Once ready() succeeded there is nothing to wait for (the usual case).
    if (!gate.isServing) await gate.settled();
    const input = parse();
    if (!gate.isServing) await gate.serving();
    if (who.id !== null) await applyGpc(engine, who.id, writeContext(req, engine.options));
    return { subject: who.id, input };
  }

  /**
   * The subject or visitor of a write (a visitor without a cookie gets a new id), once `ready()`
   * settled: the route checks what was sent before `write` answers 503 for a store that failed.
   */
  async function writer(req: Request): Promise<{ who: RequestSubject; subject: string }> {
    const who = await resolver.resolve(req);
    if (!gate.isServing) await gate.settled();
    return { who, subject: who.id ?? newVisitorId() };
  }

  /** After a write of a visitor: sets or renews their cookie (before the response is sent). */
  function remember(res: Response, who: RequestSubject, subject: string): void {
    if (who.visitor && cookies !== null) cookies.write(res, who.transport, subject);
  }

  /**
   * Records the body's decisions, then the GPC signal: a grant sent with the signal is an opt-in
   * that the signal must not refuse first. Returns states read after both.
   */
  async function write(req: Request, { who, subject }: { who: RequestSubject; subject: string }, parsed: WriteBody, unknownStatus: number): Promise<WriteOutcome> {
    // The order of checks (docs/http-api.md): what was sent (422 unknown id, 409 stale version) before the 503 of a
    // failed ready() (once ready, `record` checks them itself).
    if (!gate.isServing) {
      checkDecisions(engine.registry, parsed.decisions, unknownStatus);
      await gate.serving();
    }
    countWrite(req, who, subject);
    const meta = { source: 'api' as const, note: parsed.note, data: parsed.data, context: parsed.context };
    const context = writeContext(req, engine.options);
    let outcome: WriteOutcome;
    try {
      outcome = await engine.record(subject, parsed.decisions, meta, { ...context, unknownStatus, mountPath: req.baseUrl });
    } catch (error) {
      // Refused (an unknown id, a stale version…): nothing recorded, so nothing counted.
      if (refusedInput(error)) uncountWrite(req, who, subject);
      throw error;
    }
    if ((await applyGpc(engine, subject, context)).length === 0) return outcome;
    const states = await engine.states(subject, context.gpc);
    return { ...outcome, states, pending: engine.pendingFrom(states) };
  }

  router.get('/me', noStore, body, asyncHandler(async (req, res) => {
    const { subject } = await reader(req, () => undefined);
    const gpc = hasGpc(req);
    const states = subject === null ? engine.statesFrom([], gpc) : await engine.states(subject, gpc);
    sendJson(res, 200, { states, pending: engine.pendingFrom(states), gpc: { seen: gpc } });
  }));

  router.get('/me/history', noStore, body, asyncHandler(async (req, res) => {
    const { subject, input: query } = await reader(req, () => parseHistoryQuery(req.query));
    sendJson(res, 200, subject === null ? { events: [], nextCursor: null } : await engine.history(subject, query));
  }));

  router.post('/me', noStore, body, asyncHandler(async (req, res) => {
    const { who, subject } = await writer(req);
    const parsed = parsePostBody(bodyOf(req));
    const { states, pending } = await write(req, { who, subject }, parsed, 422);
    remember(res, who, subject);
    sendJson(res, 200, { states, pending });
  }));

  router.put('/me/:id', noStore, body, asyncHandler(async (req, res) => {
    const { who, subject } = await writer(req);
    const id = req.params.id as string;
    engine.registry.require(id, 404);
    const parsed = parsePutBody(id, bodyOf(req));
    const info = (await write(req, { who, subject }, parsed, 404)).states[id] as StateInfo;
    remember(res, who, subject);
    sendJson(res, info.state === 'pending' ? 202 : 200, info);
  }));

  router.delete('/me/:id', noStore, body, asyncHandler(async (req, res) => {
    const { who, subject } = await writer(req);
    const id = req.params.id as string;
    engine.registry.require(id, 404);
    requireNoBody(bodyOf(req), carriesBody(req));
    const parsed: WriteBody = { decisions: { [id]: 'denied' }, note: null, data: null, context: null };
    const info = (await write(req, { who, subject }, parsed, 404)).states[id];
    remember(res, who, subject);
    sendJson(res, 200, info);
  }));

  // An id that is not valid percent-encoding: the body rules and the subject come first, as on
  // the routes; then the id is unknown (404).
  const subjectFirst: RequestHandler = (req, _res, next) => { resolver.resolve(req).then(() => { next(); }, next); };
  router.use(pathParameterErrors(/^\/me\/[^/]+\/?$/, ['PUT', 'DELETE'], [noStore, body, subjectFirst], (req) => undecodableRequirement(pathSegment(req, 2))));
}
