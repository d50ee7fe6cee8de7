import type { Knex } from 'knex';
import type {
  BatchPlanner,
  ChainHead,
  ClaimedOutboxEntry,
  CurrentRecord,
  LapsedGrant,
  LeafPosition,
  LogBlock,
  LogBlockQuery,
  LogEntry,
  LogFold,
  LogHead,
  PendingMatch,
  PreparedBatch,
  StoredEvent,
  StoredRequirementVersion,
  SubjectSnapshot,
  SyncOutcome,
  WritePlan,
} from '../tracker/records';
import type { ChangeHandlers, ConsentTracker, EventScanQuery, HeadScanQuery, TrackerHistoryQuery } from '../tracker/tracker';
import type { AuditEvent, AuditQuery, DailyCount, StoreStats } from '../tracker/admin-records';
import * as admin from './admin-queries';
import { eraseChain, scanEvents, scanHeads } from './chain-scan';
import { readLogHead, readLogLeaves, scanLogBlocks, scanLogEntries, sealLog } from './log-store';
import * as lifecycle from './lifecycle-queries';
import { checkSchema, isPostgres, migrate } from './migrate';
import { PgListener } from './pg-listener';
import { fromVersion, groupRecords, rawRows, toEvent, toVersion, type Row } from './rows';
import { Coalescer, type Outcome } from './coalescer';
import { PreparedKnexBatch, prepareBatch } from './prepare-batch';
import { writeBatch } from './write-batch';
import { writeGroup, type WriteRequest, type Written } from './write-group';

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

/** The default tracker: SQLite (embedded) or PostgreSQL (shared by many processes) via Knex. */
export class KnexTracker implements ConsentTracker {
  private readonly prefix: string;
  private readonly ownsKnex: boolean;
  /** Compiled state reads by the number of pseudonyms they ask for. */
  private readonly currentSql = new Map<number, string>();
  private readonly stateReads: Coalescer<string, CurrentRecord[]>;
  private readonly writeGroups: Coalescer<WriteRequest, Written>;
  /** PostgreSQL with notifications on. */
  private readonly postgres: boolean;
  /** SQLite: the highest event id allocated, reserved or seen here (see `reserveIds`). */
  readonly idMark = { high: 0 };

  constructor(
    readonly knex: Knex,
    options: KnexTrackerOptions = {},
  ) {
    this.prefix = options.tablePrefix ?? 'consent_';
    this.ownsKnex = options.ownsKnex ?? false;
    this.postgres = (options.notify ?? true) && isPostgres(knex);
    // SQLite has one connection: one statement at a time, each answering everyone who waited.
    // PostgreSQL keeps a second one busy while the first answers.
    const concurrency = isPostgres(knex) ? 2 : 1;
    this.stateReads = new Coalescer((pseudonyms) => this.currentMany(pseudonyms), { concurrency, maxBatch: 200 });
    this.writeGroups = new Coalescer((requests) => writeGroup(this, requests, (trx, p) => this.announce(trx, p)), {
      concurrency,
      maxBatch: 100,
      key: (request) => request.pseudonym,
    });
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
      const top = (await trx(table).where({ id: version.id }).max({ max: 'version' }).first()) as Row | undefined;
      const highest = Number(top?.max ?? 0);
      if (highest > version.version) return { kind: 'downgrade', highest };
      // Several processes may start at once: insert if absent, then compare what is stored.
      await trx(table).insert(fromVersion(version)).onConflict(['id', 'version']).ignore();
      const stored = (await trx(table).where({ id: version.id, version: version.version }).first()) as Row;
      if (stored.text_hash === version.textHash) return { kind: 'ok' };
      const referenced: Row | undefined = await trx(this.table('events'))
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
    const rows = (await this.knex(this.table('requirements'))
      .whereIn('id', ids)
      .orderBy([{ column: 'id' }, { column: 'version' }])) as Row[];
    return rows.map(toVersion);
  }

  /**
   * The guard's read when the cache misses. Reads that arrive while another is in flight are
   * answered together by the next statement (`where pseudonym in (...)`), compiled once per size.
   */
  current(pseudonym: string): Promise<CurrentRecord[]> {
    return this.stateReads.submit(pseudonym);
  }

  private async currentMany(pseudonyms: string[]): Promise<Outcome<CurrentRecord[]>[]> {
    const unique = [...new Set(pseudonyms)];
    let sql = this.currentSql.get(unique.length);
    if (sql === undefined) {
      sql = this.knex(`${this.table('states')} as st`)
        .join(`${this.table('subjects')} as s`, 's.chain', 'st.chain')
        .whereIn('s.pseudonym', unique)
        .select('s.pseudonym as subject_pseudonym', 'st.*')
        .toSQL().sql;
      this.currentSql.set(unique.length, sql);
    }
    const rows = rawRows(await this.knex.raw(sql, unique as readonly string[]));
    const bySubject = groupRecords(rows, 'subject_pseudonym');
    return pseudonyms.map((p) => ({ ok: true, value: bySubject.get(p) ?? [] }));
  }

  /**
   * Writes that arrive while another is in flight share the next transaction (one commit for
   * all of them; see `writeGroup`). A lone write starts at once.
   */
  write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }> {
    return this.writeGroups.submit({ pseudonym, plan }) as Promise<{ result: T; eventIds: string[] }>;
  }

  /** Delivered on commit only, to every listening process (the pseudonym, never the id). */
  private async announce(trx: Knex.Transaction, pseudonyms: string[]): Promise<void> {
    if (!this.postgres) return;
    if (pseudonyms.length === 1) await trx.raw('select pg_notify(?, ?)', [this.channel, pseudonyms[0] as string]);
    else await trx.raw('select pg_notify(?, p) from unnest(?::text[]) as p', [this.channel, pseudonyms]);
  }

  /**
   * One transaction for the batch, with the same rows as `write` for each subject in pseudonym
   * order, in a few multi-row statements. Subjects are locked in pseudonym order, so two
   * concurrent imports on PostgreSQL cannot deadlock.
   */
  writeMany(pseudonyms: string[], plan: BatchPlanner, prepared: PreparedBatch | null = null): Promise<void> {
    const sorted = [...new Set(pseudonyms)].sort();
    const ahead = prepared instanceof PreparedKnexBatch ? prepared : null;
    return this.knex.transaction(async (trx) => {
      await writeBatch(this, trx, sorted, plan, ahead);
      if (sorted.length > 0) await this.announce(trx, sorted);
    });
  }

  /**
   * Plans and seals a batch for `writeMany` before its transaction, as if every subject were
   * new, with ids reserved for it (from the sequence on PostgreSQL; in memory on SQLite, where
   * this process allocates every other id above them).
   */
  prepareMany(pseudonyms: string[], plan: BatchPlanner): Promise<PreparedBatch | null> {
    return prepareBatch(this, [...new Set(pseudonyms)].sort(), plan);
  }

  /** On PostgreSQL: LISTEN on a dedicated connection that reconnects. Elsewhere: null. */
  async subscribe(handlers: ChangeHandlers): Promise<(() => Promise<void>) | null> {
    if (!this.postgres) return null;
    const listener = new PgListener(
      this.knex,
      this.channel,
      (pseudonym) => { handlers.onChange(pseudonym); },
      () => { handlers.onReset(); },
      (error) => { handlers.onError(error); },
    );
    await listener.begin();
    return () => listener.close();
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
    const rows = (await q) as Row[];
    return rows.map(toEvent);
  }

  scanEvents(query: EventScanQuery): Promise<StoredEvent[]> {
    return scanEvents(this, query);
  }

  heads(query: HeadScanQuery): Promise<ChainHead[]> {
    return scanHeads(this, query);
  }

  sealLog(fold: LogFold): Promise<LogHead | null> {
    return sealLog(this, fold);
  }

  logHead(): Promise<LogHead | null> {
    return readLogHead(this);
  }

  logEntries(query: { after?: string; limit: number }): Promise<LogEntry[]> {
    return scanLogEntries(this, query);
  }

  logBlocks(query: LogBlockQuery): Promise<LogBlock[]> {
    return scanLogBlocks(this, query);
  }

  logLeaves(query: { from: LeafPosition; count: number }): Promise<Buffer> {
    return readLogLeaves(this, query);
  }

  erase(pseudonym: string, plan: (snapshot: SubjectSnapshot) => WritePlan): Promise<number | null> {
    return eraseChain(this, pseudonym, plan);
  }

  auditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    return admin.auditEvents(this, query);
  }

  stats(now: number): Promise<StoreStats> {
    return admin.storeStats(this, now);
  }

  dailyCounts(from: number): Promise<DailyCount[]> {
    return admin.dailyCounts(this, from);
  }

  allRequirementVersions(): Promise<StoredRequirementVersion[]> {
    return admin.allRequirementVersions(this);
  }

  readSetting(name: string): Promise<string | null> {
    return admin.readSetting(this, name);
  }

  async setting(name: string, candidate: string): Promise<string> {
    const meta = this.table('meta');
    await this.knex(meta).insert({ key: name, value: candidate }).onConflict('key').ignore();
    const row: Row | undefined = await this.knex(meta).where({ key: name }).first('value');
    return row?.value as string;
  }

  findPending(tokenHash: string): Promise<PendingMatch | null> {
    return lifecycle.findPending(this.knex, (n) => this.table(n), tokenHash);
  }

  lapsedGrants(query: { now: number; limit: number; after?: string }): Promise<LapsedGrant[]> {
    return lifecycle.lapsedGrants(this.knex, (n) => this.table(n), query);
  }

  claimOutbox(query: { handlers: string[]; now: number; leaseMs: number; limit: number }): Promise<ClaimedOutboxEntry[]> {
    return lifecycle.claimOutbox(this.knex, (n) => this.table(n), query);
  }

  completeOutbox(id: string): Promise<void> {
    return lifecycle.completeOutbox(this.knex, (n) => this.table(n), id);
  }

  retryOutbox(entry: ClaimedOutboxEntry, availableAt: number): Promise<void> {
    return lifecycle.retryOutbox(this.knex, (n) => this.table(n), entry, availableAt);
  }

  async close(): Promise<void> {
    if (this.ownsKnex) await this.knex.destroy();
  }
}
