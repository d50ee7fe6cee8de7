import type { Knex } from 'knex';
import { decodeRecords, encodeRecords, nextLapse } from '../../lib/tracker/record-blob';
import type { CurrentRecord } from '../../lib/tracker/records';
import { UNREADABLE_RECORD } from '../../lib/tracker/stored-records';

/*
 * A subject's records as tests read and change them behind the library's back: they live in
 * its subject row (`records`, with `lapse_at`), in the format lib/tracker/record-blob.ts
 * writes. Someone with write access to the database can do the same without the secret.
 */

/** The subject row's stored records (none for a chain without a row or without records). */
export async function storedRecordsOf(knex: Knex, chain: Buffer, prefix = 'consent_'): Promise<CurrentRecord[]> {
  const row: { records: Buffer | null } | undefined = await knex(`${prefix}subjects`).where({ chain }).first('records');
  return row?.records ? decodeRecords(row.records) : [];
}

/** Stores `records` in the chain's subject row, well-formed, with the `lapse_at` they imply. */
export async function storeRecords(knex: Knex, chain: Buffer, records: readonly CurrentRecord[], prefix = 'consent_'): Promise<void> {
  await knex(`${prefix}subjects`).where({ chain }).update({ records: encodeRecords(records), lapse_at: nextLapse(records) });
}

/**
 * Changes the chain's record of `requirement` as an UPDATE of its row would have (`change`
 * merged into it), or removes it (`change` null); adds one (from `change`) when it has none.
 */
export async function changeRecord(
  knex: Knex,
  chain: Buffer,
  requirement: string,
  change: Partial<CurrentRecord> | null,
  prefix = 'consent_',
): Promise<void> {
  const records = await storedRecordsOf(knex, chain, prefix);
  const at = records.findIndex((r) => r.requirement === requirement);
  if (change === null) {
    if (at >= 0) records.splice(at, 1);
  } else if (at >= 0) {
    records[at] = { ...(records[at] as CurrentRecord), ...change };
  } else {
    records.push({ ...UNREADABLE_RECORD, requirement, ...change });
  }
  await storeRecords(knex, chain, records, prefix);
}

/** Every stored record of the store, with its chain (as hex), in chain order. */
export async function allStoredRecords(knex: Knex, prefix = 'consent_'): Promise<Array<CurrentRecord & { chain: string }>> {
  const rows: Array<{ chain: Buffer; records: Buffer | null }> = await knex(`${prefix}subjects`).whereNotNull('records').orderBy('chain').select('chain', 'records');
  return rows.flatMap((row) => decodeRecords(row.records).map((r) => ({ ...r, chain: row.chain.toString('hex') })));
}
