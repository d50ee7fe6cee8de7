import type { Knex } from 'knex';
import { quote as q } from '../quote';

/** The meta key that marks a store upgraded to sealed rows whose seals the library must still write. */
export const SEAL_PENDING_KEY = 'seal_pending';


/*
 * Sealed rows, in half the space:
 * - digests, hashes, pseudonyms, token hashes and chain keys are stored as bytes (BLOB on SQLite,
 *   bytea on PostgreSQL) instead of hex text;
 * - events lose `prev_hash` (verification takes it from the predecessor `prev_id` names), and
 *   `personal_digest` is null for an event without personal fields (its hash covers the value);
 * - subjects lose `created_at` (no read used it); on SQLite, subjects and states are keyed by
 *   their primary key alone (WITHOUT ROWID), which drops the copy of the key an index held;
 * - requirement versions get a `mac` (their seal);
 * - events `(requirement, version)` goes: the one query that used it (is a version referenced,
 *   when its text changed) reads `(requirement, id)` instead.
 * Indexes kept, and the query each serves:
 * - subjects primary key `chain`: the write lock of a subject's row, heads in chain order (verify);
 * - subjects `pseudonym` (unique): every read and write of a subject (`current`, `write`, history);
 * - events primary key `id`: id allocation, the admin search's keyset;
 * - events `(chain, seq)` (unique): history, verification and export scans in chain order;
 * - events `(at)`: admin search by time, daily counts;
 * - events `(action, id)` and `(requirement, id)`: admin search filters newest first, action
 *   counts, whether a version is referenced;
 * - states primary key `(chain, requirement)`: a subject's records (reads, writes, heads);
 * - states `pending_token` (partial): the confirmation link lookup;
 * - states `(decision, expiry_recorded, expires_at)` (partial): the sweep of lapsed grants.
 * The seals themselves need the secret, which a migration never sees: the store is marked
 * (`seal_pending`) and the library seals it at startup (or `migrate` on the command line),
 * once the proof it had verifies.
 */
export function sealedRowsSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  return {
    async up(knex) {
      const postgres = (knex.client as { dialect?: string }).dialect === 'postgresql';
      if (postgres) await upPostgres(knex, t);
      else await upSqlite(knex, t);
      const subjects = (await knex(t('subjects')).first('seq')) as unknown;
      const versions = (await knex(t('requirements')).first('id')) as unknown;
      if (subjects !== undefined || versions !== undefined) {
        await knex(t('meta')).insert({ key: SEAL_PENDING_KEY, value: String(Date.now()) }).onConflict('key').ignore();
      }
    },
    down() {
      return Promise.reject(new Error('006-sealed-rows cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

async function upPostgres(knex: Knex, t: (name: string) => string): Promise<void> {
  const bytes = (column: string) => `alter column ${q(column)} type bytea using decode(${q(column)}, 'hex')`;
  await knex.raw(`alter table ${q(t('subjects'))} drop column "created_at", ${['chain', 'pseudonym', 'head_hash', 'head_mac'].map(bytes).join(', ')}`);
  await knex.raw(
    `alter table ${q(t('events'))} drop column "prev_hash", alter column "personal_digest" drop not null, ` +
      ['chain', 'personal_digest', 'hash'].map(bytes).join(', '),
  );
  await knex.raw(`drop index if exists ${q(`${t('events')}_requirement_version_index`)}`);
  await knex.raw(`alter table ${q(t('states'))} ${['chain', 'pending_token'].map(bytes).join(', ')}`);
  await knex.raw(`alter table ${q(t('chains'))} ${bytes('chain')}`);
  await knex.raw(`alter table ${q(t('outbox'))} ${bytes('chain')}`);
  await knex.raw(`alter table ${q(t('requirements'))} add column "mac" bytea`);
}

/** Replaces `table` by `definition` (a CREATE TABLE body and options) filled from `select`. */
async function rebuild(knex: Knex, table: string, definition: string, select: string): Promise<void> {
  const next = `${table}_006`;
  await knex.raw(`create table ${q(next)} ${definition}`);
  await knex.raw(`insert into ${q(next)} ${select} from ${q(table)}`);
  await knex.raw(`drop table ${q(table)}`);
  await knex.raw(`alter table ${q(next)} rename to ${q(table)}`);
}

async function upSqlite(knex: Knex, t: (name: string) => string): Promise<void> {
  const subjects = t('subjects');
  const events = t('events');
  const states = t('states');
  await rebuild(
    knex,
    subjects,
    `("chain" blob not null primary key, "pseudonym" blob, "seq" integer not null, "head_hash" blob not null,
      "head_id" bigint, "head_mac" blob not null, "erased_at" bigint) without rowid`,
    'select unhex("chain"), unhex("pseudonym"), "seq", unhex("head_hash"), "head_id", unhex("head_mac"), "erased_at"',
  );
  await knex.raw(`create unique index ${q(`${subjects}_pseudonym_unique`)} on ${q(subjects)} ("pseudonym")`);

  // AUTOINCREMENT never hands out the id of a deleted newest event again: the mark moves over.
  const mark = await knex<{ name: string; seq: number }>('sqlite_sequence').where({ name: events }).first('seq');
  await rebuild(
    knex,
    events,
    `("id" integer not null primary key autoincrement, "chain" blob not null, "seq" integer not null,
      "requirement" varchar(64) not null, "version" integer not null, "action" varchar(16) not null,
      "state" varchar(16) not null, "source" varchar(16) not null, "actor" varchar(256), "at" bigint not null,
      "note" text, "data" text, "ip" varchar(64), "user_agent" varchar(512), "personal_digest" blob,
      "prev_id" bigint, "hash" blob not null)`,
    `select "id", unhex("chain"), "seq", "requirement", "version", "action", "state", "source", "actor", "at",
      "note", "data", "ip", "user_agent", unhex("personal_digest"), "prev_id", unhex("hash")`,
  );
  if (mark?.seq !== undefined) {
    await knex.raw('update sqlite_sequence set seq = max(seq, ?) where name = ?', [mark.seq, events]);
  }
  await knex.raw(`create unique index ${q(`${events}_chain_seq_unique`)} on ${q(events)} ("chain", "seq")`);
  await knex.raw(`create index ${q(`${events}_at_index`)} on ${q(events)} ("at")`);
  await knex.raw(`create index ${q(`${events}_action_id_index`)} on ${q(events)} ("action", "id")`);
  await knex.raw(`create index ${q(`${events}_requirement_id_index`)} on ${q(events)} ("requirement", "id")`);

  await rebuild(
    knex,
    states,
    `("chain" blob not null, "requirement" varchar(64) not null, "decision" varchar(8), "version" integer,
      "decided_at" bigint, "expires_at" bigint, "gpc_opt_in" boolean not null default '0', "pending_version" integer,
      "pending_at" bigint, "pending_expires_at" bigint, "pending_token" blob,
      "expiry_recorded" boolean not null default '0', primary key ("chain", "requirement")) without rowid`,
    `select unhex("chain"), "requirement", "decision", "version", "decided_at", "expires_at", "gpc_opt_in",
      "pending_version", "pending_at", "pending_expires_at", unhex("pending_token"), "expiry_recorded"`,
  );
  await knex.raw(`create index ${q(`${states}_pending_token_index`)} on ${q(states)} ("pending_token") where "pending_token" is not null`);
  await knex.raw(
    `create index ${q(`${states}_decision_expiry_recorded_expires_at_index`)} on ${q(states)} ` +
      '("decision", "expiry_recorded", "expires_at") where "expires_at" is not null',
  );
  // A BLOB keeps its bytes in a column of text affinity: the ledger and the outbox convert in place.
  await knex.raw(`update ${q(t('chains'))} set "chain" = unhex("chain")`);
  await knex.raw(`update ${q(t('outbox'))} set "chain" = unhex("chain")`);
  await knex.raw(`alter table ${q(t('requirements'))} add column "mac" blob`);
}
