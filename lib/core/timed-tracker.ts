import type { ConsentTracker } from '../tracker/tracker';
import type { CallGate } from './call-gate';
import { deadline, storeFailure } from './store-call';

/** Which deadline a tracker method gets; `none` for what is not one storage call. */
type Budget = 'request' | 'startup' | 'aggregate' | 'none';

interface MethodDeadline {
  /** Names the call in errors: `storage did not answer <what> within … ms`. */
  what: string;
  budget: Budget;
  /** The call changes subjects: the pseudonym in the first argument, or the list there. */
  writes?: 'one' | 'many';
}

/**
 * The least deadlines of storage work no request waits on. Internal: tests lower them.
 */
export const storeDeadlines = {
  /** Migrations, the requirement sync and import batches may take a while. */
  startupMs: 60_000,
  /**
   * Aggregates over millions of events, and each read of a whole-store verification (see
   * `scansOf`), may take longer than a guard's read: a busy store answers them late rather
   * than never, and no guard or `/me` route waits on them.
   */
  aggregateMs: 30_000,
};

/** The deadline of every tracker method; a method added to the interface must be listed here. */
const DEADLINES: { readonly [K in keyof ConsentTracker]-?: MethodDeadline } = {
  init: { what: 'schema setup (its migration, or its check with autoMigrate: false)', budget: 'startup' },
  secret: { what: 'secret', budget: 'startup' },
  syncRequirement: { what: 'requirement sync', budget: 'startup' },
  setting: { what: 'setting', budget: 'startup' },
  requirementVersions: { what: 'requirement read', budget: 'request' },
  current: { what: 'state read', budget: 'request' },
  write: { what: 'write', budget: 'request', writes: 'one' },
  writeMany: { what: 'import', budget: 'startup', writes: 'many' },
  prepareMany: { what: 'import', budget: 'startup' },
  history: { what: 'history read', budget: 'request' },
  subscribe: { what: 'change listener', budget: 'none' },
  scanEvents: { what: 'event scan', budget: 'request' },
  heads: { what: 'head scan', budget: 'request' },
  sealLog: { what: 'log seal', budget: 'request' },
  logHead: { what: 'log head read', budget: 'request' },
  logEntries: { what: 'log scan', budget: 'request' },
  logBlocks: { what: 'log block read', budget: 'request' },
  logLeaves: { what: 'log read', budget: 'request' },
  erase: { what: 'erasure', budget: 'request', writes: 'one' },
  lapsedGrants: { what: 'sweep read', budget: 'request' },
  claimOutbox: { what: 'outbox claim', budget: 'request' },
  completeOutbox: { what: 'outbox completion', budget: 'request' },
  retryOutbox: { what: 'outbox retry', budget: 'request' },
  outboxClaimed: { what: 'outbox check', budget: 'request' },
  auditEvents: { what: 'audit read', budget: 'request' },
  stats: { what: 'stats read', budget: 'aggregate' },
  dailyCounts: { what: 'daily counts read', budget: 'aggregate' },
  allRequirementVersions: { what: 'requirement read', budget: 'request' },
  readSetting: { what: 'setting read', budget: 'request' },
  sealPending: { what: 'upgrade check', budget: 'startup' },
  sealUpgrade: { what: 'upgrade seal', budget: 'none' },
  audience: { what: 'audience read', budget: 'request' },
  audienceRows: { what: 'audience read', budget: 'request' },
  storeSealedSubject: { what: 'subject id write', budget: 'request' },
  snapshots: { what: 'state read', budget: 'request' },
  snapshotRows: { what: 'state read', budget: 'request' },
  close: { what: 'close', budget: 'none' },
};

/** Options of `withDeadline`. */
export interface DeadlineOptions {
  /** The deadline of a request's storage call; startup calls and aggregates get longer ones. */
  storeTimeoutMs: number;
  /**
   * Called with the pseudonyms a write, an erasure or an import batch touched, as its caller
   * stops waiting (answer, failure or deadline) and again when one that missed its deadline
   * settles after all: it may still have committed.
   */
  written?: (pseudonyms: readonly string[]) => void;
  /** Closed by `consent.close()`: every call with a deadline passes it (see call-gate.ts). */
  gate?: CallGate;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';

/** Names of the methods of `tracker` (own, then up its prototypes), accessors left out. */
function methodNames(tracker: object): Set<string> {
  const names = new Set<string>();
  for (let o: object | null = tracker; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (name !== 'constructor' && typeof descriptor?.value === 'function') names.add(name);
    }
  }
  return names;
}

type Method = (...args: unknown[]) => unknown;

/**
 * The tracker with a storage deadline on every method: a call that rejects, throws or has not
 * answered within its deadline fails as `store_unavailable` (the library's own errors pass
 * through). Requests' calls get `storeTimeoutMs`; migrations, the secret and requirement sync,
 * settings and import batches get at least 60 s; `stats` (and every call through `scansOf`) at
 * least 30 s; `subscribe`, `sealUpgrade` and `close` none, and they do not pass the `gate`.
 * Methods the interface does not know get `storeTimeoutMs` when they return a promise. Only
 * methods are carried over: the tracker's other members stay behind it.
 */
export function withDeadline(tracker: ConsentTracker, options: DeadlineOptions): ConsentTracker {
  const { storeTimeoutMs, written, gate } = options;
  const budgets: Record<Budget, number> = {
    request: storeTimeoutMs,
    startup: Math.max(storeTimeoutMs, storeDeadlines.startupMs),
    aggregate: Math.max(storeTimeoutMs, storeDeadlines.aggregateMs),
    none: 0,
  };
  const known = DEADLINES as Readonly<Record<string, MethodDeadline | undefined>>;
  const timed: Record<string, Method> = {};
  for (const name of methodNames(tracker)) {
    const method = (tracker as unknown as Record<string, unknown>)[name];
    if (typeof method !== 'function') continue;
    const { what, budget, writes } = known[name] ?? { what: name, budget: 'request' };
    if (budget === 'none') {
      timed[name] = (method as Method).bind(tracker);
      continue;
    }
    const ms = budgets[budget];
    const touched = written && writes ? (args: unknown[]) => { written(writes === 'one' ? [args[0] as string] : (args[0] as string[])); } : null;
    const timedCall = (args: unknown[]): unknown => {
      let call: unknown;
      try {
        call = (method as Method).apply(tracker, args);
      } catch (error) {
        touched?.(args);
        return Promise.reject(storeFailure(error, what));
      }
      if (!isThenable(call)) return call;
      return deadline(call, ms, what, touched ? () => { touched(args); } : undefined);
    };
    timed[name] = gate ? (...args: unknown[]) => gate.pass(() => timedCall(args)) : (...args: unknown[]) => timedCall(args);
  }
  return timed as unknown as ConsentTracker;
}

/**
 * The tracker for store-wide work (a whole-store verification, also when `GET /admin/verify` or
 * the command line runs it): every call gets the aggregates' deadline. On a store busy with
 * writes (one SQLite connection queued behind them, or a lock held by another process) a page
 * may come later than `storeTimeoutMs`, which would otherwise throw away minutes of checking; a
 * store that stops answering still fails it.
 */
export function scansOf(tracker: ConsentTracker, options: DeadlineOptions): ConsentTracker {
  return withDeadline(tracker, { ...options, storeTimeoutMs: Math.max(options.storeTimeoutMs, storeDeadlines.aggregateMs) });
}
