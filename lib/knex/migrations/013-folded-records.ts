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
 * one per record, and a write updates the subject row it updated anyway.
 * Pending confirmations keep a small table of their own (`pending`: token → chain), so that a
 * confirmation link finds its subject; only the sealed record can confirm it.
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
      await knex.schema.createTable(t('pending'), (table) => {
        table.binary('token').notNullable().primary();
        table.binary('chain').notNullable();
      });
      await foldRecords(knex, subjects, states, t('pending'));
      await knex.schema.dropTable(states);
      if (postgres) await rebuildAligned(knex, subjects);
      await knex.raw(`create index ${q(`${subjects}_lapse_index`)} on ${q(subjects)} ("lapse_at") where "lapse_at" is not null`);
    },
    down() {
      return Promise.reject(new Error('013-folded-records cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

/** Writes every subject's records into its row, page by page in chain order, and the pending tokens into their table. */
async function foldRecords(knex: Knex, subjects: string, states: string, pending: string): Promise<void> {
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
    for (const { chain, records } of byChain.values()) {
      await knex(subjects).where({ chain }).update(foldedColumns(records));
      const tokens = records.flatMap((r) => (r.pendingToken === null ? [] : [{ token: Buffer.from(r.pendingToken, 'hex'), chain }]));
      if (tokens.length > 0) await knex(pending).insert(tokens).onConflict('token').ignore();
    }
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

/** The subject columns of `records`: stored as they are, or as bytes no reader takes for records. */
function foldedColumns(records: CurrentRecord[]): { records: Buffer | null; lapse_at: number | null } {
  try {
    return { records: encodeRecords(records), lapse_at: nextLapse(records) };
  } catch {
    return { records: UNREADABLE, lapse_at: null };
  }
}
