import { planBatch, type BatchContext } from '../state/plan';
import type { DecisionInput, RecordMeta } from '../types';
import { batchContext } from './batch-context';
import type { ConsentCore } from './consent-core';
import type { Registry } from '../registry/registry';
import { assertNoProblems, parseDecisions, parseMeta, requireSubject, type ParsedDecision } from './input';
import { plannedDecisions } from './planned-decisions';
import { issueTokens } from './tokens';
import type { WriteContext, WriteOutcome } from './write-types';

/** What recording decisions uses of the engine. */
export type RecordDeps = Pick<ConsentCore, 'registry' | 'derivedKeys' | 'options' | 'ready' | 'now' | 'commit' | 'pseudonym' | 'statesFrom' | 'pendingFrom' | 'storedTexts'>;

// A route naming the requirement in its path (404 for an unknown one) takes `locale` at the body's top.
const planOf = (registry: Registry, decisions: ParsedDecision[], unknownStatus = 422) =>
  plannedDecisions(registry, decisions, unknownStatus, unknownStatus === 404 ? '/locale' : undefined);

/**
 * Checks decisions against the registry as `recordDecisions` will (unknown ids, a stale
 * version, a locale the text lacks), without waiting for `ready()`: for a route that must
 * answer what was sent before it answers that the store cannot serve. Needs a sealed registry.
 * @throws ConsentError as `recordDecisions` does.
 */
export function checkDecisions(registry: Registry, input: Record<string, DecisionInput>, unknownStatus?: number): void {
  const parsed = parseDecisions(input, '/decisions');
  assertNoProblems(parsed.problems);
  planOf(registry, parsed.decisions, unknownStatus);
}

/**
 * Records a subject's decisions (`consent.record()` and the routes): the input checked before
 * anything is read, then one write of the planned batch, answered with the states it left.
 */
export async function recordDecisions(
  deps: RecordDeps,
  subjectId: unknown,
  input: Record<string, DecisionInput>,
  meta?: RecordMeta,
  context: WriteContext = {},
): Promise<WriteOutcome> {
  const subject = requireSubject(subjectId);
  const parsedDecisions = parseDecisions(input, '/decisions');
  const parsedMeta = parseMeta(meta);
  assertNoProblems([...parsedDecisions.problems, ...parsedMeta.problems]);
  await deps.ready();
  const planned = planOf(deps.registry, parsedDecisions.decisions, context.unknownStatus);
  // The text this process shows must be the one stored for the version, which receipts cite.
  const texts = await deps.storedTexts.check(planned.map((p) => p.requirement));
  const now = deps.now();
  const keys = deps.derivedKeys;
  const tokens = issueTokens(keys, planned, subject, now + deps.options.confirm.ttlMs);
  const ctx: BatchContext = { ...batchContext(now, parsedMeta.meta, context), resendAfterMs: deps.options.confirm.resendAfterMs };
  const written = await deps.commit({
    subjectId: subject,
    pseudonym: deps.pseudonym(subject),
    now,
    source: ctx.source,
    tokens,
    mountPath: context.mountPath,
    plan: (snapshot) => planBatch(snapshot, planned, ctx, keys.chain),
  });
  deps.storedTexts.answered(texts);
  const states = deps.statesFrom(written.records, ctx.gpc);
  return { states, pending: deps.pendingFrom(states), changes: written.changes, tokens: written.tokens };
}
