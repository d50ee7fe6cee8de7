import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { GENESIS } from '../audit/chain';
import type {
  BatchPlanner,
  CurrentRecord,
  StoredEvent,
  StoredRequirementVersion,
  SubjectSnapshot,
  SyncOutcome,
  WritePlan,
} from '../tracker/records';
import type { ChangeHandlers, ConsentTracker, TrackerHistoryQuery } from '../tracker/tracker';
import { isPostgres, PgListener } from './pg-listener';
import { checkSchema, migrate } from './migrate';
import { writeMany } from './write-many';
import { fromEvent, fromRecord, fromVersion, toEvent, toRecord, toVersion, type Row } from './rows';

/** Options of `KnexTracker`. */
export interface KnexTrackerOptions {
  /** @default 'consent_' */
  tablePrefix?: string;
  /** Destroy the Knex instance on `close()` (only when the tracker created it). @default false */
  ownsKnex?: boolean;
  /**
   * On PostgreSQL, announce every write with NOTIFY (the pseudonym) and let `subscribe` LISTEN,
   * so that other processes drop a cached state at once. `false` leaves cross-process
   * freshness to the cache lifetime. Ignored on other databases. @default true
   */
  notify?: boolean;
}

// SQLite allows 32,766 bound variables per statement; an event row binds 15.
const EVENT_CHUNK = 1000;

/** The default tracker: SQLite (embedded) or PostgreSQL (shared by many processes) via Knex. */
export class KnexTracker implements ConsentTracker {
  private readonly prefix: string;
  private readonly ownsKnex: boolean;
  private currentSql: string | null = null;
  /** PostgreSQL with notifications on. */
  private readonly postgres: boolean;

  constructor(
    readonly knex: Knex,
    options: KnexTrackerOptions = {},
  ) {
    this.prefix = options.tablePrefix ?? 'consent_';
    this.ownsKnex = options.ownsKnex ?? false;
    this.postgres = (options.notify ?? true) && isPostgres(knex);
  }

  /** The PostgreSQL channel on which writes announce the pseudonyms they changed. */
  get channel(): string {
    return `${this.prefix}changes`;
  }

  /** A table name with the configured prefix. */
  table(name: string): string {
    return `${this.prefix}${name}`;
  }

  async init(options: { migrate: boolean }): Promise<void> {
    if (options.migrate) await migrate(this.knex, { tablePrefix: this.prefix });
    else await checkSchema(this.knex, this.prefix);
  }

  async secret(candidate: string): Promise<string> {
    const meta = this.table('meta');
    await this.knex(meta).insert({ key: 'secret', value: candidate }).onConflict('key').ignore();
    const row: Row | undefined = await this.knex(meta).where({ key: 'secret' }).first('value');
    return row?.value as string;
  }

  async syncRequirement(version: StoredRequirementVersion): Promise<SyncOutcome> {
    const table = this.table('requirements');
    return this.knex.transaction(async (trx) => {
      const top: Row | undefined = await trx(table).where({ id: version.id }).max({ max: 'version' }).first();
      const highest = Number(top?.max ?? 0);
      if (highest > version.version) return { kind: 'downgrade', highest };
      // Several processes may start at once: insert if absent, then compare what is stored.
      await trx(table).insert(fromVersion(version)).onConflict(['id', 'version']).ignore();
      const stored: Row = await trx(table).where({ id: version.id, version: version.version }).first();
      if (stored.text_hash === version.textHash) return { kind: 'ok' };
      const referenced = await trx(this.table('events'))
        .where({ requirement: version.id, version: version.version })
        .first('id');
      if (referenced) return { kind: 'text_changed' };
      const { created_at: _created, ...text } = fromVersion(version);
      await trx(table).where({ id: version.id, version: version.version }).update(text);
      return { kind: 'ok' };
    });
  }

  async requirementVersions(ids: string[]): Promise<StoredRequirementVersion[]> {
    if (ids.length === 0) return [];
    const rows: Row[] = await this.knex(this.table('requirements'))
      .whereIn('id', ids)
      .orderBy([{ column: 'id' }, { column: 'version' }]);
    return rows.map(toVersion);
  }

  async current(pseudonym: string): Promise<CurrentRecord[]> {
    // The guard's read when the cache misses: compiled once, not by the query builder each time.
    this.currentSql ??= this.knex(`${this.table('states')} as st`)
      .join(`${this.table('subjects')} as s`, 's.chain', 'st.chain')
      .where('s.pseudonym', '')
      .select('st.*')
      .toSQL().sql;
    const result = (await this.knex.raw(this.currentSql, [pseudonym])) as unknown;
    const rows = (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
    return rows.map(toRecord);
  }

  async write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }> {
    const subjects = this.table('subjects');
    return this.knex.transaction(async (trx) => {
      // The common case, a known subject, costs one read: its head and records, locked.
      let rows = await this.lockedSnapshot(trx, pseudonym);
      if (rows.length === 0) {
        await trx(subjects)
          .insert({ chain: randomBytes(16).toString('hex'), pseudonym, seq: 0, head_hash: GENESIS, head_mac: '', created_at: Date.now() })
          .onConflict('pseudonym')
          .ignore();
        rows = await this.lockedSnapshot(trx, pseudonym);
      }
      const head = rows[0] as Row;
      const chain = head.s_chain as string;
      const planned = plan({
        chain,
        seq: Number(head.s_seq),
        hash: head.s_head_hash as string,
        records: rows.filter((row) => row.requirement !== null).map(toRecord),
      });
      const eventIds = await this.insertEvents(trx, planned.plan.events);
      if (planned.plan.records.length > 0) {
        await trx(this.table('states'))
          .insert(planned.plan.records.map((record) => fromRecord(chain, record)))
          .onConflict(['chain', 'requirement'])
          .merge();
      }
      const { seq, hash, mac } = planned.plan.head;
      const moveHead = trx(subjects).where({ chain }).update({ seq, head_hash: hash, head_mac: mac });
      // Delivered on commit only, to every listening process (the pseudonym, never the id);
      // sent from the head update itself to spare a round trip.
      if (this.postgres) await moveHead.returning(trx.raw('pg_notify(?, ?)', [this.channel, pseudonym]));
      else await moveHead;
      return { result: planned.result, eventIds };
    });
  }

  writeMany(pseudonyms: string[], plan: BatchPlanner): Promise<void> {
    const notify = this.postgres ? this.channel : null;
    return writeMany(this.knex, (name) => this.table(name), pseudonyms, plan, notify);
  }

  /** On PostgreSQL: LISTEN on a dedicated connection that reconnects. Elsewhere: null. */
  async subscribe(handlers: ChangeHandlers): Promise<(() => Promise<void>) | null> {
    if (!this.postgres) return null;
    const listener = new PgListener(this.knex, this.channel, handlers.onChange, handlers.onReset, handlers.onError);
    await listener.begin();
    return () => listener.close();
  }

  /**
   * The subject's head and current records in one read, the subject row locked: the lock
   * serialises writers of one subject on PostgreSQL, so chains never fork; SQLite serialises
   * whole write transactions anyway (the lock clause is dropped there).
   */
  private lockedSnapshot(trx: Knex.Transaction, pseudonym: string): Promise<Row[]> {
    return trx(`${this.table('subjects')} as s`)
      .leftJoin(`${this.table('states')} as st`, 'st.chain', 's.chain')
      .where('s.pseudonym', pseudonym)
      .select('s.chain as s_chain', 's.seq as s_seq', 's.head_hash as s_head_hash', 'st.*')
      .forUpdate('s');
  }

  private async insertEvents(trx: Knex.Transaction, events: WritePlan['events']): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < events.length; i += EVENT_CHUNK) {
      const chunk = events.slice(i, i + EVENT_CHUNK).map(fromEvent);
      const inserted: Array<Row | number> = await trx(this.table('events')).insert(chunk).returning('id');
      for (const row of inserted) ids.push(String(typeof row === 'object' ? row.id : row));
    }
    return ids;
  }

  async history(pseudonym: string, query: TrackerHistoryQuery): Promise<StoredEvent[]> {
    const q = this.knex(`${this.table('events')} as e`)
      .join(`${this.table('subjects')} as s`, 's.chain', 'e.chain')
      .where('s.pseudonym', pseudonym)
      .select('e.*')
      .orderBy('e.seq', 'desc')
      .limit(query.limit);
    if (query.requirement !== undefined) q.andWhere('e.requirement', query.requirement);
    if (query.beforeSeq !== undefined) q.andWhere('e.seq', '<', query.beforeSeq);
    const rows: Row[] = await q;
    return rows.map(toEvent);
  }

  async close(): Promise<void> {
    if (this.ownsKnex) await this.knex.destroy();
  }
}
