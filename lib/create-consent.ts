import { audience, rememberSubject, type Audience } from './core/audience';
import type { AudienceOptions } from './core/audience-filter';
import { ConsentEngine } from './core/engine';
import { filterAllowed } from './core/filter-allowed';
import { importDecisions, type ImportOptions, type ImportResult } from './core/import';
import { exportSubject, type SubjectExport } from './core/export';
import type { ConsentEventHandler, ConsentEventName, OnOptions } from './core/events';
import { requireGpcOption, requireSubject } from './core/input';
import type { SweepResult } from './core/sweep';
import { linkVisitor, type LinkResult } from './core/link';
import { proofMethods, type ConsentProof } from './core/proof';
import { textByHash } from './core/text-lookup';
import type { RequirementText } from './registry/text';
import { ReceiptKey } from './core/receipt-key';
import { warnOnce } from './core/warn-once';
import { ConsentError } from './errors';
import { createHttpApi, type ConsentHttpApi } from './express/http-api';
import { defaultKnex } from './knex/default-knex';
import { KnexTracker } from './knex/knex-tracker';
import { DEFAULTS, parseOptions, type ConsentOptions } from './options';
import { Registry } from './registry/registry';
import { MemoryTracker } from './tracker/memory-tracker';
import type { ConsentTracker } from './tracker/tracker';
import type {
  ConsentExtension,
  DecisionInput,
  HistoryOptions,
  HistoryPage,
  RecordMeta,
  RecordResult,
  Requirement,
  RequirementDefinition,
  StateInfo,
} from './types';

/** The object `createConsent()` returns. It owns its registry, tracker and configuration. */
export interface Consent extends ConsentHttpApi, ConsentProof {
  /** Everything stored about the subject (Art. 15), as one JSON document. */
  export(subjectId: string | number): Promise<SubjectExport>;
  /**
   * The stored text whose hash a receipt or an export cites (every locale and field), or null.
   * @throws ConsentError `invalid_argument` when `hash` is not 64 lowercase hex digits.
   */
  text(hash: string): Promise<RequirementText | null>;
  /** The receipt verification key (SPKI PEM); a development key is available after `ready()`. */
  readonly publicKey: string;
  /** Registers requirements of the host application. Sync; throws after `ready()`. */
  register(defs: RequirementDefinition | RequirementDefinition[]): void;
  /** Registers an extension's requirements under its name. */
  use(extension: ConsentExtension): void;
  /** Every registered requirement, in registration order. */
  requirements(): Requirement[];
  /** Migrates, stores requirement versions, checks texts, seals the registry. Idempotent. */
  ready(): Promise<void>;
  /** Records an atomic batch of decisions. */
  record(subjectId: string | number, decisions: Record<string, DecisionInput>, meta?: RecordMeta): Promise<RecordResult>;
  /** The subject's state of every registered requirement, in registration order. */
  states(subjectId: string | number): Promise<Record<string, StateInfo>>;
  /** Registered consent requirements the subject still has to answer, in registration order. */
  pending(subjectId: string | number): Promise<string[]>;
  /** Whether processing under `id` is allowed for the subject now. */
  isAllowed(subjectId: string | number, id: string, options?: { gpc?: boolean }): Promise<boolean>;
  /**
   * The ids of the subjects whose current state of `id` matches (default: allowed now), as the
   * host gave them, read in batches as they are iterated: erased subjects never appear,
   * subjects recorded before the store kept ids are skipped and counted in `summary`.
   * @example for await (const userId of consent.audience('newsletter')) await mail(userId);
   */
  audience(id: string, options?: AudienceOptions): Audience;
  /**
   * The ids among `subjectIds` (an iterable or async iterable of any length, order and
   * duplicates kept) for whom processing under `id` is allowed now, checked in batches.
   */
  filterAllowed<T extends string | number>(subjectIds: Iterable<T> | AsyncIterable<T>, id: string, options?: { gpc?: boolean }): AsyncIterable<T>;
  /**
   * Stores the id of a subject recorded before the store kept subject ids, so that audiences
   * list it; resolves to false when the store knows no such subject.
   */
  rememberSubject(subjectId: string | number): Promise<boolean>;
  /** The subject's history, newest first. */
  history(subjectId: string | number, options?: HistoryOptions): Promise<HistoryPage>;
  /**
   * Imports decisions from another system in batches (one transaction each), appended after
   * existing events and chained; the only way to set `at`. Source defaults to `import`.
   */
  import(decisions: Iterable<unknown> | AsyncIterable<unknown>, options?: ImportOptions): Promise<ImportResult>;
  /**
   * Subscribes to `change`, `withdrawn`, `confirmation` or `checkpoint`. Without `name`:
   * in-process, best-effort, after the commit. With `name`: durable (outbox, at least once,
   * across restarts); register it before `ready()`. `checkpoint` handlers are in-process only.
   * @throws ConsentError `invalid_argument` (unknown event, bad or duplicate name),
   *   `registry_sealed` (a named handler after `ready()`).
   */
  on<E extends ConsentEventName>(event: E, handler: ConsentEventHandler<E>, options?: OnOptions): void;
  /** Records one `expire` event (source `sweep`) for each grant that lapsed since the last sweep. */
  sweep(): Promise<SweepResult>;
  /**
   * Carries a visitor's decisions to a subject: each live decision (a current grant, or a
   * denial) on a requirement where the subject has none, or an older one, is recorded on the
   * subject with source `link`, naming the visitor's event; a newer decision of the subject is
   * kept. The visitor's chain records the link. Linking again changes nothing.
   * @throws ConsentError `invalid_argument` (not a visitor id), `invalid_subject`.
   */
  linkVisitor(visitorId: string, subjectId: string | number): Promise<LinkResult>;
  /**
   * Stops timers and listeners (waiting for a durable handler's delivery under way, one
   * `outbox.leaseMs` at the most), waits for the storage calls under way (`storeTimeoutMs` at the
   * most), then answers every later one `store_unavailable` without reaching the store; destroys
   * only a Knex the library created itself.
   */
  close(): Promise<void>;
  /** @internal The engine behind this instance, for the library's own edges. */
  readonly engine: ConsentEngine;
}

/**
 * In production, links in confirmation mails need the router's public URL: without
 * `confirm.baseUrl` they are paths (the mount path learnt from the first request).
 */
function adviseConfirmLinks(options: ReturnType<typeof parseOptions>, registry: Registry): void {
  if (!options.production || options.confirm.baseUrl !== null || !registry.list().some((r) => r.doubleOptIn)) return;
  warnOnce(
    options.logger,
    "express-consent: double opt-in requirements are registered but confirm.baseUrl is not set: confirmation links are paths learnt from the router's first request (and wrong before it); set confirm.baseUrl to the router's public URL",
  );
}

function createTracker(options: ReturnType<typeof parseOptions>): ConsentTracker {
  if (options.tracker) {
    if (options.production && options.tracker instanceof MemoryTracker) {
      warnOnce(options.logger, 'express-consent: the in-memory tracker loses every decision on restart; use a database in production');
    }
    return options.tracker;
  }
  if (options.knex) return new KnexTracker(options.knex, { tablePrefix: options.tablePrefix });
  return new KnexTracker(defaultKnex(DEFAULTS.sqliteFile), { tablePrefix: options.tablePrefix, ownsKnex: true });
}

/**
 * Creates a consent instance: a registry, a tracker and the configuration, nothing global.
 *
 * @throws ConsentConfigError `invalid_option` for an unknown or bad option (with a "did you
 *   mean"), `secret_required` in production without a secret.
 * @example
 * const consent = createConsent({ knex, secret: process.env.CONSENT_SECRET });
 * consent.register({ id: 'analytics', title: 'Usage analytics', description: '…' });
 * await consent.ready();
 */
export function createConsent(input: ConsentOptions = {}): Consent {
  const options = parseOptions(input);
  const registry = new Registry();
  const tracker = createTracker(options);
  const engine = new ConsentEngine(options, registry, tracker);
  const receiptKey = new ReceiptKey(options);
  engine.onReady(() => receiptKey.load(engine.tracker, options.logger));
  engine.onSealed(() => { adviseConfirmLinks(options, registry); });
  let closed: Promise<void> | null = null;
  const proof = proofMethods(engine, receiptKey, (checkpoint) => { engine.events.emit('checkpoint', checkpoint); });
  const exportMe = (subjectId: string | number) => exportSubject(engine, subjectId);

  const consent: Consent = {
    engine,
    // ready, router, requireConsent, collect, formFields.
    ...createHttpApi(engine, {
      ...proof,
      get publicKey() {
        return receiptKey.publicKey;
      },
    }),
    register: (defs) => { registry.register(defs); },
    use: (extension) => { registry.use(extension); },
    requirements: () => registry.list(),
    async record(subjectId, decisions, meta) {
      const { states, pending } = await engine.record(subjectId, decisions, meta);
      return { states, pending };
    },
    states: (subjectId) => engine.states(subjectId),
    async pending(subjectId) {
      return engine.pendingFrom(await engine.states(subjectId));
    },
    async isAllowed(subjectId, id, opts) {
      requireSubject(subjectId);
      if (typeof id !== 'string') throw new ConsentError('invalid_argument', 'the requirement id must be a string');
      const gpc = requireGpcOption(opts, 'isAllowed()');
      await engine.ready();
      registry.require(id);
      const states = await engine.states(subjectId, gpc);
      return (states[id] as StateInfo).allowed;
    },
    history: (subjectId, opts) => engine.history(subjectId, opts),
    audience: (id, opts) => audience(engine, id, opts),
    filterAllowed: (subjectIds, id, opts) => filterAllowed(engine, subjectIds, id, opts),
    rememberSubject: (subjectId) => rememberSubject(engine, subjectId),
    import: (decisions, opts) => importDecisions(engine, decisions, opts),
    ...proof,
    export: exportMe,
    text: (hash) => textByHash(engine, hash),
    get publicKey() {
      return receiptKey.publicKey;
    },
    on: (event, handler, opts) => { engine.events.on(event, handler, opts); },
    sweep: () => engine.sweep(),
    linkVisitor: (visitorId, subjectId) => linkVisitor(engine, visitorId, subjectId),
    close() {
      closed ??= (async () => {
        await engine.stop();
        // A tracker passed in by the host is the host's to close.
        if (!options.tracker) await tracker.close?.();
      })();
      return closed;
    },
  };
  return consent;
}
