import { storedDigest } from '../audit/chain';
import { sealChain } from '../audit/seal';
import type { DraftEvent, SubjectSnapshot, WritePlan } from '../tracker/records';
import type { Source } from '../types';
import { batchTime } from './batch-time';

/**
 * The requirement an erase event is filed under: it concerns the subject, not one requirement,
 * and keeps per-requirement counts unchanged.
 */
export const ERASE_REQUIREMENT = '*';

/**
 * Plans an erasure (Art. 17): one `erase` event closing the chain, sealed as erased so that
 * verification accepts the redacted personal fields of its events. Pure.
 */
export function planErase(
  snapshot: SubjectSnapshot,
  ctx: { now: number; source: Source; actor: string | null; personalSalt: string | null },
  chainKey: Buffer,
): WritePlan {
  // Who asked for the erasure stays: it is the record of the request, appended after the
  // subject's own events lost their personal fields.
  const none = { note: null, data: null, ip: null, userAgent: null };
  if (ctx.actor !== null && ctx.personalSalt === null) throw new Error('planErase: an actor needs a salt (newPersonalSalt)');
  const personal = { ...none, actor: ctx.actor, personalSalt: ctx.actor === null ? null : ctx.personalSalt };
  const draft: DraftEvent = {
    chain: snapshot.chain,
    seq: snapshot.seq + 1,
    requirement: ERASE_REQUIREMENT,
    version: 0,
    action: 'erase',
    state: 'unset',
    source: ctx.source,
    actor: ctx.actor,
    at: batchTime(snapshot.records, ctx.now),
    ...none,
    personalDigest: storedDigest(chainKey, personal),
    personalSalt: personal.personalSalt,
    context: null,
  };
  return {
    events: [draft],
    records: [],
    seal: (ids) => sealChain(chainKey, snapshot, [draft], ids, [], true),
  };
}
