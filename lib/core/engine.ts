import { eventIdCodec, type EventIdCodec } from '../audit/event-ids';
import { deriveKeys, hmacHex, pseudonymOf, type DerivedKeys } from '../audit/keys';
import { ConsentError } from '../errors';
import { systemClock, type ResolvedOptions } from '../options';
import type { Registry } from '../registry/registry';
import { allowedWindows } from '../state/allowed-window';
import { isPending, stateInfo } from '../state/derive';
import { planBatch, type BatchContext, type PlannedDecision } from '../state/plan';
import type { CurrentRecord } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import type { DecisionInput, HistoryOptions, HistoryPage, RecordMeta, RecordResult, StateInfo } from '../types';
import { watchChanges } from './change-watch';
import { commitWrite, type CommittedChange } from './commit';
import { EventHub } from './events';
import { readHistory } from './history';
import { isLocalPath } from './local-url';
import { assertNoProblems, parseDecisions, parseMeta, requireSubject } from './input';
import { plannedDecisions } from './planned-decisions';
import { resolveSecret, syncRequirements } from './setup';
import { PseudonymCache } from './pseudonym-cache';
import { StateCache, type CacheLink } from './state-cache';
import { OutboxPoller } from './outbox-poller';
import { storeCall } from './store-call';
import { sweep } from './sweep';
import { issueToken } from './tokens';

// Recently seen subjects whose pseudonym the engine keeps (memory only).
const PSEUDONYM_CACHE_SIZE = 4096;

/** Request context the HTTP layer adds to a write. */
export interface WriteContext {
  gpc?: boolean;
  ip?: string | null;
  userAgent?: string | null;
  /** Status of an unknown id in the decisions (404 in a path, 422 in a body). */
  unknownStatus?: number;
}

/** A confirmation token issued by a double opt-in grant: returned once, stored only hashed. */
export interface IssuedToken {
  requirement: string;
  version: number;
  token: string;
  expiresAt: number;
}

/** The full outcome of a write, for the HTTP layer and change events. */
export interface WriteOutcome extends RecordResult {
  changes: CommittedChange[];
  tokens: IssuedToken[];
}

/**
 * The consent engine: the registry, the tracker and the pure core put together. Every public
 * method waits for `ready()` (starting it if nobody has), so nothing runs on an unready store.
 */
export class ConsentEngine {
  private readyPromise: Promise<void> | null = null;
  private keys: DerivedKeys | null = null;
  private ids: EventIdCodec | null = null;
  private pseudonyms: PseudonymCache<CacheLink> | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly readyHooks: Array<() => Promise<void>> = [];
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;
  readonly cache: StateCache | null;
  readonly events: EventHub;
  readonly outbox: OutboxPoller;
  /** Cache invalidations received from the store's change notifications (other processes). */
  notifications = 0;
  /**
   * Where the router is mounted (`req.baseUrl`), recorded when it handles a request; confirmation
   * links without `confirm.baseUrl` start with it ('' until the router has seen a request).
   */
  mountPath = '';

  constructor(
    readonly options: ResolvedOptions,
    readonly registry: Registry,
    readonly tracker: ConsentTracker,
  ) {
    // A refresh runs in the background: if it fails, the entry expires at its ttl and the next
    // request reads on its own path (and fails closed if the store is still down).
    const refresh = (pseudonym: string) => void this.load(pseudonym).catch(() => undefined);
    const windowsOf = (records: CurrentRecord[]) => allowedWindows(records, registry.ordered());
    this.cache = options.cache ? new StateCache(options.cache.max, options.cache.ttlMs, refresh, windowsOf) : null;
    this.events = new EventHub(options.logger, () => this.readyPromise !== null);
    this.outbox = new OutboxPoller(this);
  }

  now(): number {
    return this.options.now === systemClock ? Date.now() : this.options.now().getTime();
  }

  /** Migrates, resolves the secret, stores requirement versions and seals the registry. */
  ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      this.registry.seal();
      const timeout = Math.max(this.options.storeTimeoutMs, 60_000);
      await storeCall(timeout, 'migration', () => this.tracker.init({ migrate: this.options.autoMigrate }));
      const secret = await storeCall(timeout, 'secret', () => resolveSecret(this.options, this.tracker));
      await storeCall(timeout, 'requirement sync', () => syncRequirements(this.registry, this.tracker, this.now()));
      const keys = deriveKeys(secret);
      this.keys = keys;
      this.ids = eventIdCodec(keys.eventId);
      this.pseudonyms = new PseudonymCache(PSEUDONYM_CACHE_SIZE, (subjectId): CacheLink => ({ key: pseudonymOf(keys, subjectId), entry: null }));
      for (const hook of this.readyHooks) await storeCall(timeout, 'setup', hook);
      const stopWatching = await watchChanges(this);
      // stop() may have run while the listener was connecting.
      if (this.closed) await stopWatching?.();
      else this.unsubscribe = stopWatching;
      if (!this.closed) this.startBackground();
    })();
    return this.readyPromise;
  }

  private startBackground(): void {
    this.outbox.start();
    if (this.options.sweep && !this.sweeper) {
      this.sweeper = setInterval(() => {
        sweep(this).catch((error: unknown) => this.options.logger.error('express-consent: sweep failed', error));
      }, this.options.sweep.intervalMs);
      this.sweeper.unref();
    }
  }

  /**
   * Stops the outbox poller, the sweeper and the change listener (waits for a delivery in
   * progress) and forgets cached states and pseudonyms.
   */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    this.cache?.clear();
    this.pseudonyms?.forget();
    await Promise.all([this.outbox.stop(), unsubscribe?.()]);
  }

  /**
   * Records the router's mount path (`req.baseUrl`) for confirmation links. A mount path with a
   * parameter takes its text from the request: one that could lead off-site is not kept.
   */
  rememberMountPath(path: string): void {
    if (path === '' || isLocalPath(path)) this.mountPath = path;
  }

  /** The link of a confirmation token: `confirm.baseUrl`, else the mount path, never the Host header. */
  confirmUrl(token: string): string {
    return `${this.options.confirm.baseUrl ?? this.mountPath}/confirm/${token}`;
  }

  /** Adds a step to `ready()` (before it is first called): features that load state at startup. */
  onReady(hook: () => Promise<void>): void {
    this.readyHooks.push(hook);
  }

  /** The derived keys; only after `ready()`. */
  get derivedKeys(): DerivedKeys {
    if (!this.keys) throw new ConsentError('internal_error', 'the consent store is not ready');
    return this.keys;
  }

  /** Public event ids, to and from the tracker's; only after `ready()`. */
  get eventIds(): EventIdCodec {
    if (!this.ids) throw new ConsentError('internal_error', 'the consent store is not ready');
    return this.ids;
  }

  /** The subject's pseudonym (an HMAC of the id), remembered for recently seen subjects. */
  pseudonym(subjectId: string): string {
    return this.subjectLink(subjectId).key;
  }

  /** The subject's pseudonym (`key`) with a link to its state-cache entry, for `cachedAllows`. */
  subjectLink(subjectId: string): CacheLink {
    if (!this.pseudonyms) throw new ConsentError('internal_error', 'the consent store is not ready');
    return this.pseudonyms.get(subjectId);
  }

  /** The subject's records if the cache holds them fresh at `now`, synchronously; else undefined. */
  cachedRecords(pseudonym: string, now: number): CurrentRecord[] | undefined {
    return this.cache?.get(pseudonym, now);
  }

  /**
   * Whether the cache holds the subject fresh at `now` with every listed requirement (indexes
   * in registry order) allowed for a request without the GPC signal; undefined when it does not
   * hold the subject. The guard's hit: no state is derived.
   */
  cachedAllows(link: CacheLink, now: number, indexes: readonly number[]): boolean | undefined {
    return this.cache?.allowsVia(link, now, indexes);
  }

  /** The subject's records, from the cache while fresh, else from the store (with a deadline). */
  async records(pseudonym: string): Promise<CurrentRecord[]> {
    return this.cachedRecords(pseudonym, this.now()) ?? this.load(pseudonym);
  }

  /** Reads the subject's records from the store (with a deadline) and caches them. */
  private async load(pseudonym: string): Promise<CurrentRecord[]> {
    const now = this.now();
    const generation = this.cache?.generation(pseudonym) ?? 0;
    const records = await storeCall(this.options.storeTimeoutMs, 'state read', () => this.tracker.current(pseudonym));
    this.cache?.set(pseudonym, records, now, generation);
    return records;
  }

  /** Forgets a subject's cached records after a write committed. */
  invalidate(pseudonym: string): void {
    this.cache?.invalidate(pseudonym);
  }

  /** States of every registered requirement, in registration order. */
  statesFrom(records: CurrentRecord[], gpc = false): Record<string, StateInfo> {
    const byId = new Map(records.map((record) => [record.requirement, record]));
    const now = this.now();
    const states: Record<string, StateInfo> = {};
    for (const requirement of this.registry.ordered()) {
      states[requirement.id] = stateInfo(byId.get(requirement.id), requirement, now, gpc);
    }
    return states;
  }

  pendingFrom(states: Record<string, StateInfo>): string[] {
    return this.registry.ordered().filter((r) => isPending(r, states[r.id] as StateInfo)).map((r) => r.id);
  }

  async states(subjectId: unknown, gpc = false): Promise<Record<string, StateInfo>> {
    const subject = requireSubject(subjectId);
    await this.ready();
    return this.statesFrom(await this.records(this.pseudonym(subject)), gpc);
  }

  async record(
    subjectId: unknown,
    input: Record<string, DecisionInput>,
    meta?: RecordMeta,
    context: WriteContext = {},
  ): Promise<WriteOutcome> {
    const subject = requireSubject(subjectId);
    const parsedDecisions = parseDecisions(input, '/decisions');
    const parsedMeta = parseMeta(meta);
    assertNoProblems([...parsedDecisions.problems, ...parsedMeta.problems]);
    await this.ready();
    const planned = plannedDecisions(this.registry, parsedDecisions.decisions, context.unknownStatus ?? 422);
    const now = this.now();
    const tokens = this.issueTokens(planned, now, subject);
    const ctx: BatchContext = {
      now,
      ...parsedMeta.meta,
      ip: context.ip ?? null,
      userAgent: context.userAgent ?? null,
      gpc: context.gpc ?? false,
      resendAfterMs: this.options.confirm.resendAfterMs,
    };
    const keys = this.derivedKeys;
    const written = await commitWrite(this, {
      subjectId: subject,
      pseudonym: this.pseudonym(subject),
      now,
      source: ctx.source,
      tokens,
      plan: (snapshot) => planBatch(snapshot, planned, ctx, keys.chain),
    });
    const states = this.statesFrom(written.records, ctx.gpc);
    return { states, pending: this.pendingFrom(states), changes: written.changes, tokens: written.tokens };
  }

  /**
   * Fresh tokens for double opt-in grants: 256 random bits and the sealed subject id (see
   * `issueToken`); only their keyed hash is stored.
   */
  private issueTokens(planned: PlannedDecision[], now: number, subject: string): IssuedToken[] {
    const tokens: IssuedToken[] = [];
    for (const p of planned) {
      if (!p.requirement.doubleOptIn || p.decision !== 'granted') continue;
      const token = issueToken(this.derivedKeys.tokenSubject, subject);
      const expiresAt = now + this.options.confirm.ttlMs;
      p.token = { hash: this.tokenHash(token), expiresAt };
      tokens.push({ requirement: p.requirement.id, version: p.requirement.version, token, expiresAt });
    }
    return tokens;
  }

  tokenHash(token: string): string {
    return hmacHex(this.derivedKeys.token, token);
  }

  history(subjectId: unknown, options: HistoryOptions = {}): Promise<HistoryPage> {
    return readHistory(this, subjectId, options);
  }
}
