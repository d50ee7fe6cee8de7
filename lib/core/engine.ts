import { pseudonymOf, type DerivedKeys } from '../audit/keys';
import type { EventIdCodec } from '../audit/event-ids';
import { ConsentError } from '../errors';
import { systemClock } from '../clock';
import type { ResolvedOptions } from '../options';
import type { Registry } from '../registry/registry';
import { allowedWindows } from '../state/allowed-window';
import { pendingOf, statesOf } from '../state/states-of';
import type { CurrentRecord, LogHead, StoredRequirementVersion } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import type { DecisionInput, HistoryOptions, HistoryPage, RecordMeta, StateInfo } from '../types';
import { CallGate } from './call-gate';
import { watchChanges } from './change-watch';
import { commitWrite, type CommitDeps, type CommitRequest, type CommitResult } from './commit';
import { ConfirmLinks } from './confirm-links';
import type { ConsentCore } from './consent-core';
import { EventHub } from './events';
import { historyPage, historyRequest } from './history';
import { requireSubject } from './input';
import { Keyring } from './keyring';
import { LogSealer } from './log-sealer';
import { OutboxPoller } from './outbox-poller';
import { PseudonymCache } from './pseudonym-cache';
import { recordDecisions } from './record-decisions';
import { markSecret, refuseOtherSecret } from './secret-check';
import { resolveSecret, syncRequirements } from './setup';
import { logRefusal, trustedRecords, trustedVersions } from './trusted';
import { sealUpgradedStore } from './upgrade-seal';
import { StateCache, type CacheLink } from './state-cache';
import { StoredTextCheck } from './stored-texts';
import { sweepLapsed, type SweepResult } from './sweep';
import { SweepTimer } from './sweep-timer';
import { scansOf, withDeadline } from './timed-tracker';
import { tokenHash } from './tokens';
import type { WriteContext, WriteOutcome } from './write-types';

export type { IssuedToken, WriteContext, WriteOutcome } from './write-types';

// Recently seen subjects whose pseudonym the engine keeps (memory only).
const PSEUDONYM_CACHE_SIZE = 4096;

/**
 * The consent engine: the registry, the tracker and the pure core put together. Every public
 * method waits for `ready()` (starting it if nobody has), so nothing runs on an unready store.
 * Its collaborators (writes, delivery, sweeps, change notifications) get only the parts they
 * use; the operations built on it take a `Pick` of `ConsentCore`.
 */
export class ConsentEngine implements ConsentCore {
  private readyPromise: Promise<void> | null = null;
  private pseudonyms: PseudonymCache<CacheLink> | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly readyHooks: Array<() => Promise<void>> = [];
  private readonly sealChecks: Array<() => void> = [];
  private readonly sweeper: SweepTimer;
  private closed = false;
  /** Every storage call with a deadline (see `withDeadline`): closed last by `stop()`. */
  private readonly calls = new CallGate();
  private readonly keyring = new Keyring();
  private readonly links: ConfirmLinks;
  private readonly writes: CommitDeps;
  /**
   * The tracker behind the storage deadline: every call fails as `store_unavailable` past
   * `storeTimeoutMs`, and a write forgets its subject's cached state as it ends.
   */
  readonly tracker: ConsentTracker;
  /** The same tracker behind the longer deadline of store-wide work (`scansOf`): a whole-store verification. */
  readonly scanTracker: ConsentTracker;
  readonly cache: StateCache | null;
  readonly events: EventHub;
  readonly outbox: OutboxPoller;
  /** Folds the global log's new entries into its tree, soon after writes and on demand. */
  readonly log: LogSealer;
  /** Refuses a decision on a version whose stored text another process replaced. */
  readonly storedTexts: StoredTextCheck;
  /** Cache invalidations received from the store's change notifications (other processes). */
  notifications = 0;

  /**
   * @param configuredTracker the tracker as configured, without the deadline: for what needs
   *   its own members (tests, the owner closing it), never for a request's storage calls.
   */
  constructor(
    readonly options: ResolvedOptions,
    readonly registry: Registry,
    readonly configuredTracker: ConsentTracker,
  ) {
    // A refresh runs in the background: if it fails, the entry expires at its ttl and the next
    // request reads on its own path (and fails closed if the store is still down).
    const refresh = (pseudonym: string) => void this.load(pseudonym).catch(() => undefined);
    registry.useClock(() => this.now());
    const windowsOf = (records: CurrentRecord[]) => {
      const now = this.now();
      return allowedWindows(records, registry.ordered(now), registry.supersededAt(now));
    };
    const windowsUntil = () => registry.currentUntil(this.now());
    const cache = options.cache ? new StateCache(options.cache.max, options.cache.ttlMs, refresh, windowsOf, windowsUntil) : null;
    this.cache = cache;
    // A write that missed its deadline may still commit: the subject is forgotten again once it
    // settles (a read meanwhile cached the old state). Its log entry is sealed soon after.
    const written = (pseudonyms: readonly string[]) => {
      if (cache) pseudonyms.forEach((p) => { cache.invalidate(p); });
      this.log.soon();
    };
    const deadlines = { storeTimeoutMs: options.storeTimeoutMs, written, gate: this.calls };
    this.tracker = withDeadline(configuredTracker, deadlines);
    this.scanTracker = scansOf(configuredTracker, deadlines);
    this.log = new LogSealer(this.tracker, () => this.keyring.keys.log, options.logger);
    this.sweeper = new SweepTimer(() => this.sweep(), options.logger);
    this.events = new EventHub(options.logger, () => this.readyPromise !== null);
    this.storedTexts = new StoredTextCheck((ids) => this.storedVersions(ids), options.logger);
    this.links = new ConfirmLinks(options.confirm.baseUrl, (message) => { options.logger.warn(message); });
    const { tracker, events, keyring } = this;
    this.outbox = new OutboxPoller({ tracker, events, keyring, logger: options.logger, timing: options.outbox });
    this.writes = { tracker, events, keyring, links: this.links, outbox: this.outbox, deadlineMs: options.storeTimeoutMs };
  }

  now(): number {
    return this.options.now === systemClock ? Date.now() : this.options.now().getTime();
  }

  /** Migrates, resolves the secret, stores requirement versions and seals the registry. */
  ready(): Promise<void> {
    if (this.readyPromise !== null) return this.readyPromise;
    this.readyPromise = (async () => {
      const { tracker, options } = this;
      this.registry.seal();
      for (const check of this.sealChecks) check();
      await tracker.init({ migrate: options.autoMigrate });
      const secret = await resolveSecret(options, tracker);
      const keys = this.keyring.open(secret);
      const marked = await refuseOtherSecret(tracker, keys.chain, options.logger);
      // A whole-store check first: read with the deadline of store-wide work.
      await sealUpgradedStore(this.scanTracker, keys, options.logger);
      if (!marked) await markSecret(this.registry, tracker, keys.chain, options.logger);
      await syncRequirements(this.registry, tracker, this.now(), keys.chain);
      this.pseudonyms = new PseudonymCache(PSEUDONYM_CACHE_SIZE, (subjectId): CacheLink => ({ key: pseudonymOf(keys, subjectId), entry: null }));
      for (const hook of this.readyHooks) await hook();
      // A new store's empty log gets its head now, before any write appends to it.
      await this.log.sealAtStart();
      const noticed = () => { this.notifications += 1; };
      const stopWatching = await watchChanges({ tracker, cache: this.cache, logger: options.logger, now: () => this.now(), noticed });
      // stop() may have run while the listener was connecting.
      if (this.closed) await stopWatching?.();
      else this.unsubscribe = stopWatching;
      if (!this.closed) this.startBackground();
    })();
    this.calls.track(this.readyPromise); // close() waits for it: its next storage call then fails
    return this.readyPromise;
  }

  private startBackground(): void {
    this.outbox.start();
    if (this.options.sweep) this.sweeper.start(this.options.sweep.intervalMs);
  }

  /**
   * Stops the outbox poller, the sweeper and the change listener (waits for a delivery in
   * progress), forgets cached states and pseudonyms, and refuses every later storage call.
   */
  async stop(): Promise<void> {
    this.closed = true;
    this.sweeper.stop();
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    this.cache?.clear();
    this.pseudonyms?.forget();
    await Promise.all([this.outbox.stop(), unsubscribe?.(), this.log.stop()]);
    // No storage call after this (a listing's page read ahead); those out answer first (see CallGate).
    await this.calls.close(this.options.storeTimeoutMs);
  }

  /** Runs one write through the tracker, then emits its events (see `commitWrite`). */
  commit(request: CommitRequest): Promise<CommitResult> {
    return commitWrite(this.writes, request).catch((error: unknown) => logRefusal(this.options.logger, error));
  }

  /** Seals the global log now (see `LogSealer.seal`). */
  sealLog(): Promise<LogHead | null> {
    return this.log.seal();
  }

  /** Records one `expire` event (source `sweep`) for each grant that lapsed (see `sweepLapsed`). */
  async sweep(): Promise<SweepResult> {
    await this.ready();
    const { tracker, registry } = this;
    return sweepLapsed({ tracker, registry, keys: this.keyring.keys, now: this.now(), commit: (request) => this.commit(request) });
  }

  /** Records the router's mount path (`req.baseUrl`) for confirmation links (see `ConfirmLinks.remember`). */
  rememberMountPath(path: string): void {
    this.links.remember(path);
  }

  /** The link of a confirmation token: `confirm.baseUrl`, else the mount path, never the Host header. */
  confirmUrl(token: string): string {
    return this.links.url(token);
  }

  /** Adds a check run once `ready()` sealed the registry, before any storage call; a throw fails `ready()`. */
  onSealed(check: () => void): void {
    this.sealChecks.push(check);
  }

  /** Adds a step to `ready()` (before it is first called): features that load state at startup. */
  onReady(hook: () => Promise<void>): void {
    this.readyHooks.push(hook);
  }

  /** The derived keys; only after `ready()`. */
  get derivedKeys(): DerivedKeys {
    return this.keyring.keys;
  }

  /** Public event ids, to and from the tracker's; only after `ready()`. */
  get eventIds(): EventIdCodec {
    return this.keyring.eventIds;
  }

  /** The subject's pseudonym (an HMAC of the id), remembered for recently seen subjects. */
  pseudonym(subjectId: string): string {
    return this.subjectLink(subjectId).key;
  }

  /** Forgets the subject's id, held in memory with its pseudonym (erasure). */
  forgetSubject(subjectId: string): void {
    this.pseudonyms?.forget(subjectId);
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
  private load(pseudonym: string): Promise<CurrentRecord[]> {
    const read = () => this.storedRecords(pseudonym);
    return this.cache ? this.cache.load(pseudonym, this.now(), read) : read();
  }

  /** The subject's records read from the store (with a deadline), once their seal checks; never cached. */
  async storedRecords(pseudonym: string): Promise<CurrentRecord[]> {
    return trustedRecords(this.derivedKeys.chain, this.options.logger, pseudonym, await this.tracker.current(pseudonym));
  }

  /** Stored versions of the given requirements (oldest first), once each one's seal checks. */
  async storedVersions(ids: string[]): Promise<StoredRequirementVersion[]> {
    return trustedVersions(this.derivedKeys.chain, this.options.logger, await this.tracker.requirementVersions(ids));
  }

  /** States of every registered requirement, in registration order. */
  statesFrom(records: CurrentRecord[], gpc = false): Record<string, StateInfo> {
    return statesOf(this.registry, records, this.now(), gpc);
  }

  pendingFrom(states: Record<string, StateInfo>): string[] {
    return pendingOf(this.registry, states);
  }

  async states(subjectId: unknown, gpc = false): Promise<Record<string, StateInfo>> {
    const subject = requireSubject(subjectId);
    await this.ready();
    return this.statesFrom(await this.records(this.pseudonym(subject)), gpc);
  }

  record(subjectId: unknown, input: Record<string, DecisionInput>, meta?: RecordMeta, context: WriteContext = {}): Promise<WriteOutcome> {
    return recordDecisions(this, subjectId, input, meta, context);
  }

  /** The keyed hash of a confirmation token, as stored. */
  tokenHash(token: string): string {
    return tokenHash(this.derivedKeys.token, token);
  }

  /** A page of the subject's history, newest first, with the cursor of the next page. */
  async history(subjectId: unknown, options: HistoryOptions = {}): Promise<HistoryPage> {
    const { subject, query } = historyRequest(subjectId, options);
    await this.ready();
    return historyPage(this.tracker, this.eventIds, this.pseudonym(subject), query);
  }
}
