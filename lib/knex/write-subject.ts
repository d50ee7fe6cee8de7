import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { GENESIS } from '../audit/chain';
import type { SubjectSnapshot, WritePlan } from '../tracker/records';
import { writeSealed, type TableContext } from './chain-store';
import { insertOutbox } from './lifecycle-queries';
import { fromRecord, toRecord, type Row } from './rows';

/**
 * The body of `KnexTracker.write` for one subject, inside the caller's transaction (shared by
 * `write` and `writeMany`): creates the subject's chain on first use, reads its snapshot under
 * the subject's row lock, plans, then writes the sealed events, ledger entry and head, the
 * records and the outbox entries.
 */
export async function writeSubject<T>(
  ctx: TableContext,
  trx: Knex.Transaction,
  pseudonym: string,
  plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
): Promise<{ result: T; eventIds: string[] }> {
  const subjects = ctx.table('subjects');
  let subject: Row | undefined;
  // A second round only when an erasure unlinked the row while we waited for its lock.
  for (let round = 0; !subject && round < 2; round += 1) {
    await trx(subjects)
      .insert({
        chain: randomBytes(16).toString('hex'),
        pseudonym,
        seq: 0,
        head_hash: GENESIS,
        head_mac: '',
        created_at: Date.now(),
      })
      .onConflict('pseudonym')
      .ignore();
    // The row lock serialises writers of one subject on PostgreSQL, so chains never fork;
    // SQLite serialises whole write transactions anyway (forUpdate is a no-op there).
    subject = await trx(subjects).where({ pseudonym }).forUpdate().first();
  }
  if (!subject) throw new Error('the subject row vanished twice while waiting for its lock');
  const chain = subject.chain as string;
  const rows: Row[] = await trx(ctx.table('states')).where({ chain });
  const snapshot = {
    chain,
    seq: Number(subject.seq),
    hash: subject.head_hash as string,
    headId: subject.head_id === null || subject.head_id === undefined ? null : String(subject.head_id),
    records: rows.map(toRecord),
  };
  const planned = plan(snapshot);
  const sealed = await writeSealed(ctx, trx, snapshot, planned.plan);
  if (planned.plan.records.length > 0) {
    await trx(ctx.table('states'))
      .insert(planned.plan.records.map((record) => fromRecord(chain, record)))
      .onConflict(['chain', 'requirement'])
      .merge();
  }
  const eventIds = sealed.events.map((event) => event.id);
  await insertOutbox(trx, (n) => ctx.table(n), chain, planned.plan.outbox ?? [], eventIds, Date.now());
  return { result: planned.result, eventIds };
}
