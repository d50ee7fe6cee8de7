import type { Knex } from 'knex';
import { quote as q } from '../quote';

/** The actions the admin search finds through the events' primary key instead of an index: see below. */
export const COMMON_ACTIONS = ['grant', 'deny'] as const;

// A chain's head position and hash: the newest event's, which the subject row names by id.
const HEAD_COPIES = ['seq', 'head_hash'];
const commonActions = COMMON_ACTIONS.map((a) => `'${a}'`).join(', ');

/*
 * Smaller rows and indexes for the same reads:
 * - events `(action, id)` keeps only the rarer actions (withdraw, expire, request, confirm,
 *   erase). A subject's first answer to a requirement is a grant or a denial, and every
 *   withdrawal or expiry follows a grant, so grants and denials are a large share of any history:
 *   the admin search for them walks the primary key newest first and stops after a page. The
 *   per-action counts of the stats read the table instead of this index.
 * - states `(decision, expiry_recorded, expires_at)` becomes `(expires_at)` over the grants whose
 *   expiry the sweep has yet to record: the only rows the sweep looks for.
 * - PostgreSQL: events `(at)` becomes a BRIN index (a few pages for millions of rows; events are
 *   appended roughly in time order, and a range read rechecks every row it returns);
 * - subjects lose `seq` and `head_hash`: they are the position and hash of the chain's newest
 *   event, which `head_id` names (its seal still covers them);
 * - PostgreSQL: events, states and subjects are rewritten with their fixed-width columns first, widest
 *   first, so that no padding sits between them (8 bytes less per row of each).
 */
export function leanRowsSchema(prefix: string): Knex.Migration {
  const t = (name: string) => `${prefix}${name}`;
  const events = t('events');
  const states = t('states');
  const subjects = t('subjects');
  const actionIndex = `${events}_action_id_index`;
  const expiryIndex = `${states}_decision_expiry_recorded_expires_at_index`;
  const lapseIndex = `${states}_lapse_index`;
  const atIndex = `${events}_at_index`;
  return {
    async up(knex) {
      const postgres = (knex.client as { dialect?: string }).dialect === 'postgresql';
      if (postgres) {
        await rebuildAligned(knex, events);
        await rebuildAligned(knex, states);
        await rebuildAligned(knex, subjects, HEAD_COPIES);
        await knex.raw(`drop index if exists ${q(atIndex)}`);
        await knex.raw(`create index ${q(atIndex)} on ${q(events)} using brin ("at")`);
      }
      else {
        for (const column of HEAD_COPIES) await knex.raw(`alter table ${q(subjects)} drop column ${q(column)}`);
      }
      await knex.raw(`drop index if exists ${q(actionIndex)}`);
      await knex.raw(`create index ${q(actionIndex)} on ${q(events)} ("action", "id") where "action" not in (${commonActions})`);
      await knex.raw(`drop index if exists ${q(expiryIndex)}`);
      await knex.raw(
        `create index ${q(lapseIndex)} on ${q(states)} ("expires_at") where "decision" = 'granted' and "expiry_recorded" = false and "expires_at" is not null`,
      );
    },
    down() {
      return Promise.reject(new Error('010-lean-rows cannot be undone: restore the backup taken before the upgrade'));
    },
  };
}

interface Column {
  name: string;
  type: string;
  notnull: boolean;
  fallback: string | null;
  /** Bytes of a fixed-width type; -1 for a variable one. */
  len: number;
  align: string;
}

// PostgreSQL aligns a fixed-width value to its type's alignment: double, int, short, char.
const ALIGN_RANK: Record<string, number> = { d: 0, i: 1, s: 2, c: 3 };

/**
 * Rewrites `table` with its columns in the order that wastes no padding (fixed-width columns
 * first, by alignment, then the variable ones), keeping every column, default, constraint,
 * index and owned sequence as it was. Columns are read from the catalog, so columns added by
 * later releases are kept too.
 */
export async function rebuildAligned(knex: Knex, table: string, dropped: readonly string[] = []): Promise<void> {
  const { rows: columns } = await knex.raw<{ rows: Column[] }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as notnull,
       pg_get_expr(d.adbin, d.adrelid) as fallback, ty.typlen as len, ty.typalign as align
     from pg_attribute a join pg_type ty on ty.oid = a.atttypid
     left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attrelid = ?::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [q(table)],
  );
  const ordered = columns
    .filter((c) => !dropped.includes(c.name))
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
    .map(({ c }) => c);
  const { rows: constraints } = await knex.raw<{ rows: Array<{ name: string; def: string }> }>(
    `select conname as name, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = ?::regclass and contype in ('p', 'u', 'x') order by contype`,
    [q(table)],
  );
  const { rows: indexes } = await knex.raw<{ rows: Array<{ def: string }> }>(
    `select pg_get_indexdef(i.indexrelid) as def from pg_index i
     where i.indrelid = ?::regclass and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
    [q(table)],
  );
  const owned: Array<{ column: string; sequence: string }> = [];
  for (const c of columns) {
    const { rows } = await knex.raw<{ rows: Array<{ s: string | null }> }>('select pg_get_serial_sequence(?, ?) as s', [q(table), c.name]);
    const sequence = rows[0]?.s;
    if (sequence) owned.push({ column: c.name, sequence });
  }
  // The table's owner and privileges (an app role apart from the migrating role) go over too.
  const { rows: access } = await knex.raw<{ rows: Array<{ owner: string; grantee: string | null; privilege: string; grantable: boolean }> }>(
    `select pg_get_userbyid(c.relowner) as owner, case when a.grantee = 0 then null else pg_get_userbyid(a.grantee) end as grantee,
       a.privilege_type as privilege, a.is_grantable as grantable
     from pg_class c cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a where c.oid = ?::regclass`,
    [q(table)],
  );
  // The sequence must outlive the old table: it keeps its position.
  for (const { sequence } of owned) await knex.raw(`alter sequence ${sequence} owned by none`);
  const next = `${table}_rebuilt`;
  const definition = ordered
    .map((c) => `${q(c.name)} ${c.type}${c.notnull ? ' not null' : ''}${c.fallback === null ? '' : ` default ${c.fallback}`}`)
    .join(', ');
  await knex.raw(`create table ${q(next)} (${definition})`);
  const names = ordered.map((c) => q(c.name)).join(', ');
  await knex.raw(`insert into ${q(next)} (${names}) select ${names} from ${q(table)}`);
  await knex.raw(`drop table ${q(table)}`);
  await knex.raw(`alter table ${q(next)} rename to ${q(table)}`);
  for (const { name, def } of constraints) await knex.raw(`alter table ${q(table)} add constraint ${q(name)} ${def}`);
  for (const { def } of indexes) await knex.raw(def);
  for (const { column, sequence } of owned) await knex.raw(`alter sequence ${sequence} owned by ${q(table)}.${q(column)}`);
  const owner = access[0]?.owner;
  if (owner !== undefined) await knex.raw('alter table ?? owner to ??', [table, owner]);
  for (const { grantee, privilege, grantable } of access) {
    if (grantee === owner) continue;
    await knex.raw(`grant ${privilege} on ?? to ${grantee === null ? 'public' : '??'}${grantable ? ' with grant option' : ''}`, grantee === null ? [table] : [table, grantee]);
  }
  await knex.raw('analyze ??', [table]);
}

const rank = (c: Column): number => (c.len > 0 ? (ALIGN_RANK[c.align] ?? 3) : 4);
