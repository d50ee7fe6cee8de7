import { deriveState } from '../state/derive';
import { planBatch } from '../state/plan';
import type { CurrentRecord } from '../tracker/records';
import type { Requirement } from '../types';
import { batchContext } from './batch-context';
import type { ConsentCore } from './consent-core';
import { normalizeSubject } from './input';
import type { WriteContext } from './write-types';

/**
 * The `gpc` requirements the signal still has to refuse: every one not already denied, except
 * a grant the subject gave while sending the signal (an explicit opt-in, California CCPA
 * regulations §7025(c)(3)) and an open double opt-in request (it allows nothing until
 * confirmed, and its confirmation is then judged the same way).
 */
export function gpcRefusals(records: CurrentRecord[], requirements: Requirement[], now: number): Requirement[] {
  const byId = new Map(records.map((record) => [record.requirement, record]));
  return requirements.filter((requirement) => {
    const record = byId.get(requirement.id);
    const { state } = deriveState(record, requirement, now);
    if (state === 'denied' || state === 'pending') return false;
    return !(state === 'granted' && record?.gpcOptIn);
  });
}

/**
 * Records the Global Privacy Control signal for a known subject: one `deny` (or `withdraw`)
 * with source `gpc` for each `gpc` requirement that `gpcRefusals` lists. The router and the
 * guard call it before responding to a request carrying `Sec-GPC: 1`. The decision is taken
 * again inside the write from the locked snapshot, so concurrent requests record it once.
 *
 * @returns the ids of the requirements it recorded a refusal for (none without a subject,
 *   without `ctx.gpc`, or when nothing was left to refuse).
 */
export async function applyGpc(
  engine: Pick<ConsentCore, 'registry' | 'derivedKeys' | 'ready' | 'now' | 'pseudonym' | 'records' | 'commit'>,
  subjectId: unknown,
  ctx: WriteContext,
): Promise<string[]> {
  if (ctx.gpc !== true) return [];
  const subject = normalizeSubject(subjectId);
  if (subject === null) return [];
  await engine.ready();
  const requirements = engine.registry.list().filter((r) => r.gpc);
  if (requirements.length === 0) return [];
  const pseudonym = engine.pseudonym(subject);
  const now = engine.now();
  // The common case, a signal already recorded, costs one (cached) read and no write.
  if (gpcRefusals(await engine.records(pseudonym), requirements, now).length === 0) return [];
  const chainKey = engine.derivedKeys.chain;
  // `ctx.gpc` is true here: the signal is what this batch records.
  const batch = batchContext(now, 'gpc', ctx);
  const result = await engine.commit({
    subjectId: subject,
    pseudonym,
    now,
    source: 'gpc',
    plan: (snapshot) => {
      const refusals = gpcRefusals(snapshot.records, requirements, now);
      return planBatch(snapshot, refusals.map((requirement) => ({ requirement, decision: 'denied' as const })), batch, chainKey);
    },
  });
  return result.changes.map((change) => change.requirement);
}
