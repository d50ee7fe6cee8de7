import type { Knex } from 'knex';
import type {
  BatchPlanner,
  ClaimedOutboxEntry,
  LapsedGrant,
  LeafPosition,
  LogBlock,
  LogBlockQuery,
  LogEntry,
  LogFold,
  LogHead,
  PreparedBatch,
  SealedHead,
  StoredEvent,
  StoredRequirementVersion,
  SubjectSnapshot,
  SyncOptions,
  SyncOutcome,
  WritePlan,
} from '../tracker/records';
import type { ChangeHandlers, ConsentTracker, EventScanQuery, HeadScanQuery, TrackerHistoryQuery } from '../tracker/tracker';
import type { AuditEvent, AuditQuery, DailyCount, StoreStats } from '../tracker/admin-records';
import type { UpgradeSealer } from '../tracker/capabilities';
import type { AudienceEntry, AudienceQuery, AudienceRowsPage } from '../tracker/audience-capability';
import * as admin from './admin-queries';
import * as audiences from './audience-queries';
import { eraseChain, scanEvents, scanHeads } from './chain-scan';
import { subjectHistory } from './event-scan';
import { readLogHead, readLogLeaves, scanLogBlocks, scanLogEntries, sealLog } from './log-store';
import * as lifecycle from './lifecycle-queries';
import * as upgrade from './upgrade-seal';
import { checkedTablePrefix } from './table-prefix';
import { checkSchema, isPostgres, isSynchronousDriver, migrate } from './migrate';
import { storeScanReader } from './sqlite-pages';
import { ChangeFeed } from './change-feed';
import * as requirements from './requirement-queries';
import { CurrentReads } from './current-reads';
import { Coalescer } from './coalescer';
import { PreparedKnexBatch, prepareBatch } from './prepare-batch';
import { NewSubjectWrites } from './new-subjects-script';
import { writeBatch } from './write-batch';
import { writeTransaction } from './conflict-retry';
import { writeGroups } from './write-group';
import type { WriteRequest, Written } from './write-request';

/** Options of `KnexTracker`. */
export interface KnexTrackerOptions {
  /** @default 'consent_' */
  tablePrefix?: string | undefined;
  /** Destroy the Knex instance on `close()` (only when the tracker created it). @default false */
  ownsKnex?: boolean | undefined;
  /**
   * Let `subscribe` report other processes' writes, so that they drop a cached state at once
   * and keep the others until they change: on PostgreSQL every write is announced with NOTIFY
   * (the pseudonym) and `subscribe` LISTENs; on SQLite `subscribe` polls `PRAGMA data_version`
   * every 100 ms. `false` leaves cross-process freshness to the cache lifetime. Ignored on
   * other databases. @default true
   */
  notify?: boolean | undefined;
}

/** The default tracker: SQLite (embedded) or PostgreSQL (shared by many processes) via Knex. */
export class KnexTracker implements ConsentTracker {
  private readonly prefix: string;
  private readonly ownsKnex: boolean;
  private readonly stateReads: Coalescer<string, SubjectSnapshot | null>;
  private readonly writeGroups: Coalescer<WriteRequest, Written>;
  private readonly completions: Coalescer<string, void>;
  private readonly feed: ChangeFeed;
  /** SQLite: the highest event id allocated, reserved or seen here (see `reserveIds`). */
  readonly idMark = { high: 0, known: false };
  /** SQLite: connections of its own for scans of the whole store, once the store proves large. */
  readonly pages: ReturnType<typeof storeScanReader>;

  constructor(
    readonly knex: Knex,
    options: KnexTrackerOptions = {},
  ) {
    this.prefix = checkedTablePrefix(options.tablePrefix, 'new KnexTracker()');
    this.ownsKnex = options.ownsKnex ?? false;
    this.feed = new ChangeFeed(knex, `${this.prefix}changes`, options.notify ?? true);
    this.pages = storeScanReader(knex, () => this.feed.openedFile());
    // SQLite has one connection: one statement at a time, each answering everyone who waited.
    // PostgreSQL keeps a second one busy while the first answers. A synchronous driver blocks
    // the event loop while it works, so requests gather for a turn of the loop instead.
    const concurrency = isPostgres(knex) ? 2 : 1;
    const gather = isSynchronousDriver(knex);
    const reads = new CurrentReads(this);
    this.stateReads = new Coalescer((pseudonyms) => reads.read(pseudonyms), { concurrency, maxBatch: 200, gather });
    const asNew = isPostgres(knex) ? null : new NewSubjectWrites(this, () => this.feed.checkFile());
    this.writeGroups = writeGroups(this, (trx, p) => this.feed.announce(trx, p), asNew, { concurrency, gather });
    this.completions = lifecycle.outboxCompletions(knex, (n) => this.table(n));
  }

  /** The PostgreSQL channel on which writes announce the pseudonyms they changed. */
  get channel(): string {
    return this.feed.channel;
  }

  /** A table name with the configured prefix. */
  table(name: string): string {
    return `${this.prefix}${name}`;
  }

  private migrationsRun: readonly string[] = [];
  /** The names of the migrations `init()` ran (none before it, or without `migrate`). */
  get ranMigrations(): readonly string[] {
    return this.migrationsRun;
  }

  async init(options: { migrate: boolean }): Promise<void> {
    if (options.migrate) this.migrationsRun = await migrate(this.knex, { tablePrefix: this.prefix });
    else await checkSchema(this.knex, this.prefix);
    await this.feed.identifyFile();
  }

  secret(candidate: string): Promise<string> {
    return admin.storeSetting(this, 'secret', candidate);
  }

  syncRequirement(version: StoredRequirementVersion, options?: SyncOptions): Promise<SyncOutcome> {
    return requirements.syncRequirement(this, version, options);
  }

  requirementVersions(ids: string[]): Promise<StoredRequirementVersion[]> {
    return requirements.requirementVersions(this, ids);
  }

  /**
   * The guard's read when the cache misses: the subject's head with its records, in one
   * statement. Reads that arrive while another is in flight are answered together by the next
   * statement (`where pseudonym in (...)`), compiled once per size.
   */
  current(pseudonym: string): Promise<SubjectSnapshot | null> {
    return this.stateReads.submit(pseudonym);
  }

  /**
   * Writes that arrive while another is in flight share the next transaction (one commit for
   * all of them; see `writeGroup`). A lone write starts at once.
   */
  write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }> {
    return this.feed.settle(this.writeGroups.submit({ pseudonym, plan }), [pseudonym]) as Promise<{ result: T; eventIds: string[] }>;
  }

  /**
   * One transaction for the batch, with the same rows as `write` for each subject in pseudonym
   * order, in a few multi-row statements. Subjects are locked in pseudonym order, so two
   * concurrent imports on PostgreSQL cannot deadlock over them (short of a new chain key taken by
   * both at once: see `newChainKeys`; the batch then runs again).
   */
  writeMany(pseudonyms: string[], plan: BatchPlanner, prepared: PreparedBatch | null = null): Promise<void> {
    const sorted = [...new Set(pseudonyms)].sort();
    const ahead = prepared instanceof PreparedKnexBatch ? prepared : null;
    const written = writeTransaction(this.knex, async (trx) => {
      await writeBatch(this, trx, sorted, plan, ahead);
      await this.feed.announce(trx, sorted);
    });
    return this.feed.settle(written, sorted);
  }

  /**
   * Plans and seals a batch for `writeMany` before its transaction, as if every subject were
   * new, with ids reserved for it (from the sequence on PostgreSQL; in memory on SQLite, where
   * this process allocates every other id above them).
   */
  prepareMany(pseudonyms: string[], plan: BatchPlanner): Promise<PreparedBatch | null> {
    return prepareBatch(this, [...new Set(pseudonyms)].sort(), plan);
  }

  /**
   * On PostgreSQL: LISTEN on a dedicated connection that reconnects, with a heartbeat. On
   * SQLite: a poll of `PRAGMA data_version` every 100 ms. Null with `notify: false`.
   */
  subscribe(handlers: ChangeHandlers): Promise<(() => Promise<void>) | null> {
    return this.feed.subscribe(handlers);
  }

  history(pseudonym: string, query: TrackerHistoryQuery): Promise<StoredEvent[]> {
    return subjectHistory(this, pseudonym, query);
  }

  scanEvents(query: EventScanQuery): Promise<StoredEvent[]> {
    return scanEvents(this, query);
  }

  heads(query: HeadScanQuery): Promise<SealedHead[]> {
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
    return this.feed.settle(eraseChain(this, pseudonym, plan, (trx) => this.feed.announce(trx, [pseudonym])), [pseudonym]);
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

  /** The newest requirement versions events answered above what the store still holds (see requirement-queries.ts). */
  unstoredVersions(ignore: readonly string[] = []): Promise<requirements.AnsweredVersion[]> {
    return requirements.unstoredVersions(this, ignore);
  }

  readSetting(name: string): Promise<string | null> {
    return admin.readSetting(this, name);
  }

  audience(query: AudienceQuery): Promise<AudienceEntry[]> {
    return audiences.audiencePage(this, query);
  }

  audienceRows(query: AudienceQuery): Promise<AudienceRowsPage | null> {
    return audiences.audienceRows(this, query);
  }

  storeSealedSubject(pseudonym: string, seal: (chain: string) => string): Promise<boolean> {
    return audiences.storeSealedSubject(this, pseudonym, seal);
  }

  snapshots(pseudonyms: readonly string[]): Promise<Array<SubjectSnapshot | null>> {
    return audiences.readSnapshots(this, pseudonyms);
  }

  snapshotRows(pseudonyms: readonly string[]): Promise<string | null> {
    return audiences.snapshotRows(this, pseudonyms);
  }

  setting(name: string, candidate: string): Promise<string> {
    return admin.storeSetting(this, name, candidate);
  }

  lapsedGrants(query: { now: number; limit: number; after?: string }): Promise<LapsedGrant[]> {
    return lifecycle.lapsedGrants(this.knex, (n) => this.table(n), query);
  }

  claimOutbox(query: { handlers: string[]; now: number; leaseMs: number; limit: number }): Promise<ClaimedOutboxEntry[]> {
    return lifecycle.claimOutbox(this.knex, (n) => this.table(n), query);
  }

  completeOutbox(id: string): Promise<void> {
    return this.completions.submit(id);
  }

  retryOutbox(entry: ClaimedOutboxEntry, availableAt: number): Promise<void> {
    return lifecycle.retryOutbox(this.knex, (n) => this.table(n), entry, availableAt);
  }

  outboxClaimed(entry: ClaimedOutboxEntry): Promise<boolean> {
    return lifecycle.outboxClaimed(this.knex, (n) => this.table(n), entry);
  }

  sealPending(): Promise<boolean> {
    return upgrade.sealPending(this);
  }

  sealUpgrade(sealer: UpgradeSealer): Promise<boolean> {
    return upgrade.sealUpgrade(this, sealer);
  }

  async close(): Promise<void> {
    await this.pages?.close();
    if (this.ownsKnex) await this.knex.destroy();
  }
}
