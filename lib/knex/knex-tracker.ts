import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { GENESIS } from '../audit/chain';
import type {
  ChainHead,
  ClaimedOutboxEntry,
  CurrentRecord,
  LapsedGrant,
  LedgerEntry,
  LedgerHead,
  PendingMatch,
  StoredEvent,
  StoredRequirementVersion,
  SubjectSnapshot,
  SyncOutcome,
  WritePlan,
} from '../tracker/records';
import type { ConsentTracker, EventScanQuery, HeadScanQuery, TrackerHistoryQuery } from '../tracker/tracker';
import type { AuditEvent, AuditQuery, StateGroup } from '../tracker/admin-records';
import { auditEvents, storeStats } from './admin-queries';
import { readLedgerHead, writeSealed } from './chain-store';
import { eraseChain, scanEvents, scanHeads, scanLedger } from './chain-scan';
import * as lifecycle from './lifecycle-queries';
import { checkSchema, migrate } from './migrate';
import { fromRecord, fromVersion, toEvent, toRecord, toVersion, type Row } from './rows';

/** Options of `KnexTracker`. */
export interface KnexTrackerOptions {
  /** @default 'consent_' */
  tablePrefix?: string;
  /** Destroy the Knex instance on `close()` (only when the tracker created it). @default false */
  ownsKnex?: boolean;
}

/** The default tracker: SQLite (embedded) or PostgreSQL (shared by many processes) via Knex. */
export class KnexTracker implements ConsentTracker {
  private readonly prefix: string;
  private readonly ownsKnex: boolean;

  constructor(
    readonly knex: Knex,
    options: KnexTrackerOptions = {},
  ) {
    this.prefix = options.tablePrefix ?? 'consent_';
    this.ownsKnex = options.ownsKnex ?? false;
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
    const rows: Row[] = await this.knex(`${this.table('states')} as st`)
      .join(`${this.table('subjects')} as s`, 's.chain', 'st.chain')
      .where('s.pseudonym', pseudonym)
      .select('st.*');
    return rows.map(toRecord);
  }

  async write<T>(
    pseudonym: string,
    plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T },
  ): Promise<{ result: T; eventIds: string[] }> {
    const subjects = this.table('subjects');
    return this.knex.transaction(async (trx) => {
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
      const rows: Row[] = await trx(this.table('states')).where({ chain });
      const snapshot = {
        chain,
        seq: Number(subject.seq),
        hash: subject.head_hash as string,
        headId: subject.head_id === null || subject.head_id === undefined ? null : String(subject.head_id),
        records: rows.map(toRecord),
      };
      const planned = plan(snapshot);
      const sealed = await writeSealed(this, trx, snapshot, planned.plan);
      if (planned.plan.records.length > 0) {
        await trx(this.table('states'))
          .insert(planned.plan.records.map((record) => fromRecord(chain, record)))
          .onConflict(['chain', 'requirement'])
          .merge();
      }
      const eventIds = sealed.events.map((event) => event.id);
      await lifecycle.insertOutbox(trx, (n) => this.table(n), chain, planned.plan.outbox ?? [], eventIds, Date.now());
      return { result: planned.result, eventIds };
    });
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

  scanEvents(query: EventScanQuery): Promise<StoredEvent[]> {
    return scanEvents(this, query);
  }

  heads(query: HeadScanQuery): Promise<ChainHead[]> {
    return scanHeads(this, query);
  }

  ledger(query: { after?: number; limit: number }): Promise<LedgerEntry[]> {
    return scanLedger(this, query);
  }

  ledgerHead(): Promise<LedgerHead | null> {
    return readLedgerHead(this);
  }

  erase(pseudonym: string, plan: (snapshot: SubjectSnapshot) => WritePlan): Promise<number | null> {
    return eraseChain(this, pseudonym, plan);
  }

  auditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    return auditEvents(this, query);
  }

  stats(now: number): Promise<{ subjects: number; groups: StateGroup[]; actions: Record<string, number> }> {
    return storeStats(this, now);
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
