import type { Request } from 'express';
import type { ConsentEngine } from '../core/engine';
import { ConsentError } from '../errors';
import { allowedRule } from './guard';
import type { ReadyGate } from './ready-gate';
import { requestCheck, type Verdict } from './request-check';
import type { SubjectResolver } from './subject';

// Checks kept per list of ids: code names a handful of lists, each checked on many requests.
const MAX_CHECKS = 256;

/**
 * `allows(req, ids)`: whether the guard would let this request through, for code that decides
 * inside a handler. The same check as `requireConsent(ids)`: subject hook, GPC signal (recorded
 * first), cache, fail closed. Resolves to false without a subject; rejects with the guard's
 * other failures (`store_unavailable` when the state cannot be read, `internal_error` for a
 * hook that threw), so a failure is never taken for a yes.
 */
export function createAllows(engine: ConsentEngine, gate: ReadyGate, resolver: SubjectResolver): (req: Request, ids: string | string[]) => Promise<boolean> {
  const checks = new Map<string, (req: Request) => Verdict | Promise<Verdict>>();
  return async (req, input) => {
    await gate.serving();
    const ids = gate.ids(input, 'allows');
    const key = ids.join('\n');
    let check = checks.get(key);
    if (check === undefined) {
      if (checks.size >= MAX_CHECKS) checks.clear();
      check = requestCheck(engine, gate, resolver, allowedRule(engine, ids));
      checks.set(key, check);
    }
    try {
      return (await check(req)) === null;
    } catch (error) {
      if (error instanceof ConsentError && error.code === 'no_subject') return false;
      throw error;
    }
  };
}
