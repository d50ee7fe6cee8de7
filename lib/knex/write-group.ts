import type { Knex } from 'knex';
import type { SubjectSnapshot, WritePlan } from '../tracker/records';
import type { TableContext } from './chain-store';
import type { Outcome } from './coalescer';
import { writeSubject } from './write-subject';

/** One `write()` call waiting for its group. */
export interface WriteRequest {
  pseudonym: string;
  plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: unknown };
}

/** What a committed write answers. */
export interface Written {
  result: unknown;
  eventIds: string[];
}

/** Announces committed pseudonyms inside the transaction (PostgreSQL NOTIFY), or nothing. */
export type Announce = (trx: Knex.Transaction, pseudonyms: string[]) => Promise<void>;

/**
 * Writes a group of subjects (distinct pseudonyms) in one transaction: one commit, and on
 * SQLite one journal sync, for every write that arrived together. A write whose planner refuses
 * (a `ConsentError` thrown before any of its events is written) fails alone; a failed
 * statement rolls the whole group back, and then each write is retried in a transaction of
 * its own so that only the write that caused it fails. A failed commit is not retried: it may
 * have committed, and a retry would write twice.
 */
export async function writeGroup(ctx: TableContext, requests: WriteRequest[], announce: Announce): Promise<Outcome<Written>[]> {
  if (requests.length === 1) return [{ ok: true, value: await writeAlone(ctx, requests[0] as WriteRequest, announce) }];
  let committing = false;
  try {
    return await ctx.knex.transaction(async (trx) => {
      const outcomes = await writeMembers(ctx, trx, requests);
      const written = requests.filter((_, i) => (outcomes[i] as Outcome<Written>).ok).map((r) => r.pseudonym);
      if (written.length > 0) await announce(trx, written);
      committing = true;
      return outcomes;
    });
  } catch (error) {
    if (committing) throw error;
    const outcomes: Outcome<Written>[] = [];
    for (const request of requests) {
      try {
        outcomes.push({ ok: true, value: await writeAlone(ctx, request, announce) });
      } catch (failure) {
        outcomes.push({ ok: false, error: failure });
      }
    }
    return outcomes;
  }
}

function writeAlone(ctx: TableContext, request: WriteRequest, announce: Announce): Promise<Written> {
  return ctx.knex.transaction(async (trx) => {
    const written = await writeSubject(ctx, trx, request.pseudonym, request.plan);
    await announce(trx, [request.pseudonym]);
    return written;
  });
}

/** Each member in pseudonym order (the lock order of every multi-subject write). */
async function writeMembers(ctx: TableContext, trx: Knex.Transaction, requests: WriteRequest[]): Promise<Outcome<Written>[]> {
  const outcomes = new Array<Outcome<Written>>(requests.length);
  const order = requests.map((_, i) => i).sort((a, b) => compare((requests[a] as WriteRequest).pseudonym, (requests[b] as WriteRequest).pseudonym));
  for (const i of order) {
    const request = requests[i] as WriteRequest;
    let refusal: { error: unknown } | null = null;
    const plan = (snapshot: SubjectSnapshot) => {
      try {
        return request.plan(snapshot);
      } catch (error) {
        refusal = { error };
        throw error;
      }
    };
    try {
      outcomes[i] = { ok: true, value: await writeSubject(ctx, trx, request.pseudonym, plan) };
    } catch (error) {
      if (!refusal) throw error;
      outcomes[i] = { ok: false, error: (refusal as { error: unknown }).error };
    }
  }
  return outcomes;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
