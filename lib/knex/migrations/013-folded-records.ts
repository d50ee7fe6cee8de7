import type { Knex } from 'knex';
import { encodeRecords, nextLapse } from '../../tracker/record-blob';
import type { CurrentRecord } from '../../tracker/records';
import { quote as q } from '../quote';
import { rebuildAligned } from './010-lean-rows';

// Subjects moved per statement pair: their records read, then written back.
const PAGE = 2000;
// What a record set that cannot be stored exactly becomes: bytes no reader decodes, so the
// subject's reads fail closed and `verify()` reports its records, as it did the rows.
const UNREADABLE = Buffer.from([0xff]);

/*
 * A subject's records move into its own row: `records` (lib/tracker/record-blob.ts, a few bytes
 * a record) and `lapse_at` (the earliest expiry the sweep has yet to record, indexed over the
 * rows that have one) replace the table of one row per record, whose row and key cost more
 * than the record itself. A lookup, a write and `verify()` read one row per subject instead of
 * one per record, and a write updates the subject row it updated anyway. A confirmation link
 * names its subject (encrypted), whose sealed records hold the token's hash: no index of tokens.
 * Records of a chain without a subject row are dropped (`verify()` reported them before).
 */
export function foldedRecordsSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      const postgres = (knex.client as { dialect?: string }).dialect === 'postgresql';
      const subjects = t('subjects');
      const states = t('states');
      await knex.schema.alterTable(subjects, (table) => {
        table.bigInteger('lapse_at').nullable();
        table.binary('records').nullable();
      });
      await foldRecords(knex, subjects, states);
      await knex.schema.dropTable(states);
      if (postgres) await rebuildAligned(knex, subjects);
      await knex.raw(`create index ${q(`${subjects}_lapse_index`)} on ${q(subjects)} ("lapse_at") where "lapse_at" is not null`);
    },
    down() {
      return Promise.reject(new Error('013-folded-records cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

/** Writes every subject's records into its row, page by page in chain order. */
async function foldRecords(knex: Knex, subjects: string, states: string): Promise<void> {
  let after: Buffer | null = null;
  for (;;) {
    const chains = knex(states).distinct('chain').orderBy('chain').limit(PAGE);
    if (after !== null) chains.where('chain', '>', after);
    const keys = ((await chains) as Array<{ chain: Buffer }>).map((row) => row.chain);
    if (keys.length === 0) return;
    const rows = (await knex(states).whereIn('chain', keys)) as Array<Record<string, unknown>>;
    const byChain = new Map<string, { chain: Buffer; records: CurrentRecord[] }>();
    for (const row of rows) {
      const chain = row.chain as Buffer;
      const key = chain.toString('hex');
      const entry = byChain.get(key) ?? { chain, records: [] };
      entry.records.push(recordOfRow(row));
      byChain.set(key, entry);
    }
    await writeFolded(knex, subjects, [...byChain.values()]);
    after = keys[keys.length - 1] as Buffer;
  }
}

const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** A record from its row of the table this migration drops. */
function recordOfRow(row: Record<string, unknown>): CurrentRecord {
  return {
    requirement: row.requirement as string,
    decision: (row.decision as CurrentRecord['decision'] | undefined) ?? null,
    version: numOrNull(row.version),
    decidedAt: numOrNull(row.decided_at),
    expiresAt: numOrNull(row.expires_at),
    gpcOptIn: Boolean(row.gpc_opt_in),
    pendingVersion: numOrNull(row.pending_version),
    pendingAt: numOrNull(row.pending_at),
    pendingExpiresAt: numOrNull(row.pending_expires_at),
    pendingToken: Buffer.isBuffer(row.pending_token) ? row.pending_token.toString('hex') : null,
    expiryRecorded: Boolean(row.expiry_recorded),
  };
}

/**
 * Stores each chain's records in its subject row: on PostgreSQL a statement per page (an UPDATE
 * from a list of values), on SQLite a statement per subject (each a few microseconds there; an
 * UPDATE from a list needs SQLite 3.33).
 */
async function writeFolded(knex: Knex, subjects: string, folded: ReadonlyArray<{ chain: Buffer; records: CurrentRecord[] }>): Promise<void> {
  if ((knex.client as { dialect?: string }).dialect !== 'postgresql') {
    for (const { chain, records } of folded) await knex(subjects).where({ chain }).update(storedColumns(records));
    return;
  }
  const values: unknown[] = [];
  for (const { chain, records } of folded) {
    const { records: stored, lapse_at: lapseAt } = storedColumns(records);
    values.push(chain, stored, lapseAt);
  }
  const rows = folded.map(() => '(?::bytea, ?::bytea, ?::bigint)').join(', ');
  await knex.raw(`update ${q(subjects)} as s set "records" = v.r, "lapse_at" = v.l from (values ${rows}) as v(c, r, l) where s."chain" = v.c`, values as Knex.RawBinding[]);
}

/** The subject columns of `records`: stored as they are, or as bytes no reader takes for records. */
function storedColumns(records: CurrentRecord[]): { records: Buffer | null; lapse_at: number | null } {
  try {
    return { records: encodeRecords(records), lapse_at: nextLapse(records) };
  } catch {
    return { records: UNREADABLE, lapse_at: null };
  }
}
