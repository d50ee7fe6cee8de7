import type { Knex } from 'knex';
import type { SubjectSnapshot, WritePlan } from '../tracker/records';
import { GroupPlans, type WriteRequest, type Written } from './write-request';
import type { TableContext } from './chain-store';
import { Coalescer, type Outcome } from './coalescer';
import { writeTransaction } from './conflict-retry';
import { writeBatch } from './write-batch';
import type { NewSubjectWrites } from './new-subjects-script';

/** Announces committed pseudonyms inside the transaction (PostgreSQL NOTIFY), or nothing. */
export type Announce = (trx: Knex.Transaction, pseudonyms: string[]) => Promise<void>;

/**
 * Writes a group of subjects (distinct pseudonyms) in one transaction with the batch's few
 * multi-row statements: one commit, and on SQLite one journal sync, for every write that
 * arrived together. A write whose planner refuses (throws, before anything of it is sealed)
 * fails alone; a lone write that refuses rolls back. A failed statement rolls the whole group
 * back, and then each write is retried in a transaction of its own so that only the write that
 * caused it fails (and a deadlock is run again). A failed commit is not retried: it may have
 * committed, and a retry would write twice. With `asNew` (SQLite), a group whose subjects all
 * look new is first tried as one script.
 */
export async function writeGroup(ctx: TableContext, requests: WriteRequest[], announce: Announce, asNew: NewSubjectWrites | null = null): Promise<Outcome<Written>[]> {
  const written = await asNew?.write(requests);
  if (written) return written;
  if (requests.length === 1) return [{ ok: true, value: await writeAlone(ctx, requests[0] as WriteRequest, announce) }];
  let committing = false;
  try {
    return await ctx.knex.transaction(async (trx) => {
      const outcomes = await writeMembers(trx, ctx, requests);
      const written = requests.filter((_, i) => (outcomes[i] as Outcome<Written>).ok).map((r) => r.pseudonym);
      if (written.length > 0) await announce(trx, written);
      committing = true;
      return outcomes;
    });
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside the transaction's callback, which the rule does not follow
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

/**
 * One write in a transaction of its own, run again when PostgreSQL rolled it back for a
 * deadlock (two writers creating one new subject while taking one new chain key), with the
 * next chain keys taken from elsewhere.
 */
function writeAlone(ctx: TableContext, request: WriteRequest, announce: Announce): Promise<Written> {
  return writeTransaction(ctx.knex, async (trx) => {
    const [outcome] = await writeMembers(trx, ctx, [request]);
    if (!(outcome as Outcome<Written>).ok) throw (outcome as { error: unknown }).error;
    await announce(trx, [request.pseudonym]);
    return (outcome as { value: Written }).value;
  });
}

/** Plans and writes every member; a refusing planner leaves its member out. */
async function writeMembers(trx: Knex.Transaction, ctx: TableContext, requests: WriteRequest[]): Promise<Outcome<Written>[]> {
  const plans = new GroupPlans(requests);
  const refusals = new Map<string, unknown>();
  const plan = (pseudonym: string, snapshot: SubjectSnapshot): WritePlan | null => {
    try {
      return plans.plan(pseudonym, snapshot);
    } catch (error) {
      refusals.set(pseudonym, error);
      return null;
    }
  };
  const eventIds = await writeBatch(ctx, trx, plans.sorted(), plan);
  return requests.map(({ pseudonym }) =>
    refusals.has(pseudonym)
      ? { ok: false, error: refusals.get(pseudonym) }
      : { ok: true, value: { result: plans.results.get(pseudonym), eventIds: eventIds.get(pseudonym) ?? [] } },
  );
}

// How long a write group may wait for the writers of the last group to send their next writes.
const WRITE_LINGER_MS = 5;

/**
 * The queue of `write` calls: those that arrive while a group is in flight form the next one
 * (one transaction and one commit; up to 100 subjects, one write per subject per group). SQLite
 * has one connection, so one group at a time; PostgreSQL keeps a second one busy while the
 * first commits. A synchronous driver blocks the event loop while it works, so writes gather
 * for a turn of the loop instead.
 */
export function writeGroups(
  ctx: TableContext,
  announce: Announce,
  asNew: NewSubjectWrites | null,
  driver: { concurrency: number; gather: boolean },
): Coalescer<WriteRequest, Written> {
  return new Coalescer((requests) => writeGroup(ctx, requests, announce, asNew), {
    concurrency: driver.concurrency,
    maxBatch: 100,
    key: (request) => request.pseudonym,
    gather: driver.gather,
    lingerMs: WRITE_LINGER_MS,
  });
}
