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
      if (postgres) await grantAsOn(knex, states, t('pending'));
      await knex.schema.dropTable(states);
      if (postgres) await rebuildAligned(knex, subjects);
      await knex.raw(`create index ${q(`${subjects}_lapse_index`)} on ${q(subjects)} ("lapse_at") where "lapse_at" is not null`);
    },
    down() {
      return Promise.reject(new Error('013-folded-records cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

/**
 * Gives `to` the owner and privileges `from` had: an application's role that could write the
 * records before can write the pending confirmations after.
 */
async function grantAsOn(knex: Knex, from: string, to: string): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<{ owner: string; grantee: string | null; privilege: string; grantable: boolean }> }>(
    `select pg_get_userbyid(c.relowner) as owner, case when a.grantee = 0 then null else pg_get_userbyid(a.grantee) end as grantee,
       a.privilege_type as privilege, a.is_grantable as grantable
     from pg_class c cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a where c.oid = ?::regclass`,
    [q(from)],
  );
  const owner = rows[0]?.owner;
  if (owner !== undefined) await knex.raw('alter table ?? owner to ??', [to, owner]);
  for (const { grantee, privilege, grantable } of rows) {
    if (grantee === owner) continue;
    await knex.raw(`grant ${privilege} on ?? to ${grantee === null ? 'public' : '??'}${grantable ? ' with grant option' : ''}`, grantee === null ? [to] : [to, grantee]);
  }
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
    const folded = [...byChain.values()];
    await writeFolded(knex, subjects, folded);
    const tokens = folded.flatMap(({ chain, records }) => records.flatMap((r) => (r.pendingToken === null ? [] : [{ token: Buffer.from(r.pendingToken, 'hex'), chain }])));
    for (let i = 0; i < tokens.length; i += 500) await knex(pending).insert(tokens.slice(i, i + 500)).onConflict('token').ignore();
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
    for (const { chain, records } of folded) await knex(subjects).where({ chain }).update(foldedColumns(records));
    return;
  }
  const values: unknown[] = [];
  for (const { chain, records } of folded) {
    const { records: stored, lapse_at: lapseAt } = foldedColumns(records);
    values.push(chain, stored, lapseAt);
  }
  const rows = folded.map(() => '(?::bytea, ?::bytea, ?::bigint)').join(', ');
  await knex.raw(`update ${q(subjects)} as s set "records" = v.r, "lapse_at" = v.l from (values ${rows}) as v(c, r, l) where s."chain" = v.c`, values as Knex.RawBinding[]);
}

/** The subject columns of `records`: stored as they are, or as bytes no reader takes for records. */
function foldedColumns(records: CurrentRecord[]): { records: Buffer | null; lapse_at: number | null } {
  try {
    return { records: encodeRecords(records), lapse_at: nextLapse(records) };
  } catch {
    return { records: UNREADABLE, lapse_at: null };
  }
}
