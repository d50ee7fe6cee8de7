import { newPersonalSalt } from '../audit/chain';
import type { BatchContext } from '../state/plan';
import type { Source } from '../types';
import type { ParsedMeta } from './input';
import type { WriteContext } from './write-types';

/**
 * What every event of one batch shares: when, the caller's meta (a bare source for writes the
 * library makes itself: no actor, note or data) and the request's network details and signal.
 */
export function batchContext(now: number, meta: ParsedMeta | Source, context: WriteContext): BatchContext {
  const parsed = typeof meta === 'string' ? { source: meta, actor: null, note: null, data: null, context: null } : meta;
  const { source, actor, note, data } = parsed;
  const ip = context.ip ?? null;
  const userAgent = context.userAgent ?? null;
  const personalSalt = newPersonalSalt({ actor, note, data, ip, userAgent });
  return { now, source, actor, note, data, context: parsed.context, ip, userAgent, personalSalt, gpc: context.gpc ?? false };
}
