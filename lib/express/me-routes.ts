import type { Request, RequestHandler, Router } from 'express';
import type { ConsentEngine, WriteOutcome } from '../core/engine';
import { applyGpc } from '../core/gpc';
import type { WriteLimiter } from '../core/write-limiter';
import { ConsentError } from '../errors';
import type { StateInfo } from '../types';
import { asyncHandler } from './async-handler';
import { parseHistoryQuery, parsePostBody, parsePutBody, requireNoBody, type WriteBody } from './body-shape';
import { carriesBody, jsonBody } from './json-body';
import { hasGpc, writeContext } from './network';
import type { ReadyGate } from './ready-gate';
import { resolveSubject } from './subject';

// Everything under /me is personal: no shared cache may keep it.
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

const bodyOf = (req: Request): unknown => (carriesBody(req) ? (req.body as unknown) : undefined);

/**
 * The subject's own routes. The subject comes only from the `subject` hook: no path segment,
 * query parameter, header or body field can name another subject. With a `limiter`, each
 * subject's writes are counted, and refused (before anything is recorded) beyond the limit.
 */
export function addMeRoutes(router: Router, engine: ConsentEngine, gate: ReadyGate, limiter: WriteLimiter | null = null): void {
  const body = jsonBody();

  /** Counts a write of the subject, or throws `rate_limited` (429) with the seconds to wait. */
  function countWrite(subject: string): void {
    const waitMs = limiter?.take(engine.pseudonym(subject), engine.now()) ?? 0;
    if (waitMs <= 0) return;
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    throw new ConsentError('rate_limited', `too many writes for this subject; retry in ${String(retryAfter)} s`, { extensions: { retryAfter } });
  }

  /** The subject; a `Sec-GPC: 1` request first records the signal's refusals. */
  async function subjectOf(req: Request, gpcFirst = true): Promise<string> {
    const subject = await resolveSubject(req, engine.options);
    await gate.serving();
    if (gpcFirst) await applyGpc(engine, subject, writeContext(req, engine.options));
    return subject;
  }

  /**
   * Records the body's decisions, then the GPC signal: a grant sent with the signal is an opt-in
   * that the signal must not refuse first. Returns states read after both.
   */
  async function write(req: Request, subject: string, parsed: WriteBody, unknownStatus: number): Promise<WriteOutcome> {
    countWrite(subject);
    const meta = { source: 'api' as const, note: parsed.note, data: parsed.data, context: parsed.context };
    const context = writeContext(req, engine.options);
    const outcome = await engine.record(subject, parsed.decisions, meta, { ...context, unknownStatus });
    if ((await applyGpc(engine, subject, context)).length === 0) return outcome;
    const states = await engine.states(subject, context.gpc);
    return { ...outcome, states, pending: engine.pendingFrom(states) };
  }

  router.get('/me', noStore, body, asyncHandler(async (req, res) => {
    const subject = await subjectOf(req);
    const gpc = hasGpc(req);
    const states = await engine.states(subject, gpc);
    res.json({ states, pending: engine.pendingFrom(states), gpc: { seen: gpc } });
  }));

  router.get('/me/history', noStore, body, asyncHandler(async (req, res) => {
    const subject = await subjectOf(req);
    const query = parseHistoryQuery(req.query);
    res.json(await engine.history(subject, query));
  }));

  router.post('/me', noStore, body, asyncHandler(async (req, res) => {
    const subject = await subjectOf(req, false);
    const parsed = parsePostBody(bodyOf(req));
    const { states, pending } = await write(req, subject, parsed, 422);
    res.json({ states, pending });
  }));

  router.put('/me/:id', noStore, body, asyncHandler(async (req, res) => {
    const subject = await subjectOf(req, false);
    const id = req.params.id as string;
    engine.registry.require(id, 404);
    const parsed = parsePutBody(id, bodyOf(req));
    const info = (await write(req, subject, parsed, 404)).states[id] as StateInfo;
    res.status(info.state === 'pending' ? 202 : 200).json(info);
  }));

  router.delete('/me/:id', noStore, body, asyncHandler(async (req, res) => {
    const subject = await subjectOf(req, false);
    const id = req.params.id as string;
    engine.registry.require(id, 404);
    requireNoBody(bodyOf(req), carriesBody(req));
    const parsed: WriteBody = { decisions: { [id]: 'denied' }, note: null, data: null, context: null };
    res.json((await write(req, subject, parsed, 404)).states[id]);
  }));
}
