import { ConsentConfigError } from '../errors';
import type { ConsentLogger, ResolvedOptions } from '../options';
import type { ClaimedOutboxEntry } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import { openEntry, type EventHub } from './events';
import type { Keyring } from './keyring';
import { warnOnce } from './warn-once';

const MAX_PER_PASS = 500;
// Entries claimed at once.
const CLAIM_BATCH = 50;
// Delivered entries are deleted together this long after the first of them was delivered (or
// once the claim's deliveries ended): a statement, and on SQLite a commit, for the entries fast
// handlers delivered meanwhile; a crash delivers again at most what this time let through.
const COMPLETE_AFTER_MS = 25;

/** What delivery needs: the outbox in the store, the handlers, the keys and the timings. */
export interface OutboxDeps {
  readonly tracker: Pick<ConsentTracker, 'claimOutbox' | 'completeOutbox' | 'retryOutbox' | 'outboxClaimed'>;
  readonly events: Pick<EventHub, 'durableNames' | 'durableHandler'>;
  readonly keyring: Pick<Keyring, 'keys' | 'eventIds'>;
  readonly logger: ConsentLogger;
  readonly timing: ResolvedOptions['outbox'];
}

/**
 * Delivers outbox entries to durable handlers: claims a batch (a lease, so one process
 * delivers each entry), calls the handler, deletes the entry when it resolves, and otherwise
 * releases it for a retry after an exponential backoff. An entry whose lease lapses (its
 * process died mid-delivery) is claimed again: delivery is at least once.
 */
export class OutboxPoller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: OutboxDeps) {}

  /** Starts polling when durable handlers exist. Called by `ready()`. */
  start(): void {
    const { tracker, events, timing } = this.deps;
    if (this.stopped || this.timer || events.durableNames().length === 0) return;
    if (!tracker.claimOutbox || !tracker.completeOutbox || !tracker.retryOutbox) {
      throw new ConsentConfigError('invalid_option', 'durable handlers need a tracker with claimOutbox, completeOutbox and retryOutbox');
    }
    this.timer = setInterval(() => { this.kick(); }, timing.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Looks for entries now (after a write that queued some), or once the current pass ends. */
  kick(): void {
    if (this.stopped || !this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => { this.deps.logger.error('express-consent: outbox delivery failed', error); })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    const { tracker, events, timing } = this.deps;
    const handlers = events.durableNames();
    for (let delivered = 0; delivered < MAX_PER_PASS && !this.stopped;) {
      const now = Date.now();
      // Without a way to tell that an entry claimed earlier is still there, one at a time.
      const limit = tracker.outboxClaimed ? CLAIM_BATCH : 1;
      const entries = await tracker.claimOutbox!({ handlers, now, leaseMs: timing.leaseMs, limit });
      if (entries.length === 0) return;
      // Entries are delivered one after the other, each started only while at least half of
      // its lease is left: no other process can claim it before a delivery that takes less than
      // that has ended. The rest are released for the next claim.
      const startBefore = now + timing.leaseMs / 2;
      // Delivered entries are deleted while the next ones are delivered, several at once, and
      // waited for with the batch. Under load, with the one SQLite connection busy with requests,
      // waiting for each deletion kept delivery far behind the writes queueing entries.
      const completions = new Completions(tracker);
      let started = 0;
      try {
        for (const entry of entries) {
          // stop() may have been called during the previous delivery.
          if ((this.stopped as boolean) || Date.now() >= startBefore) break;
          // Read with the claim, a later entry may have been deleted since (an erasure committed
          // while an earlier one was delivered): its payload names the erased subject.
          const held = started === 0 || (await tracker.outboxClaimed!(entry));
          if ((this.stopped as boolean) || Date.now() >= startBefore) break;
          started += 1;
          if (!held) continue;
          if (await this.deliver(entry)) completions.add(entry.id);
        }
      } catch (error) {
        // The entries delivered before the failure are deleted before the pass ends, so that
        // stop() (and close()) wait for it.
        await completions.end().catch(() => undefined);
        throw error;
      }
      delivered += started;
      await Promise.all([completions.end(), this.release(entries.slice(started))]);
      if (started === 0 && !(this.stopped as boolean)) {
        // The claim itself took half the lease: claiming again at once would only repeat that,
        // a claim and its releases after another, as fast as the slow store answers.
        warnOnce(this.deps.logger, `express-consent: an outbox claim took more than half of outbox.leaseMs (${String(timing.leaseMs)} ms), so nothing could be delivered from it; raise outbox.leaseMs well above the store's latency`);
        return;
      }
    }
    // More work left: continue in a fresh pass, leaving the event loop a breath in between.
    this.again = true;
  }

  /** Runs the entry's handler; resolves to whether it succeeded (else the entry waits for a retry). */
  private async deliver(entry: ClaimedOutboxEntry): Promise<boolean> {
    const { tracker, events, timing, logger, keyring } = this.deps;
    const handler = events.durableHandler(entry.handler, entry.event);
    const payload = openEntry(keyring.keys.outbox, entry.handler, entry.event, entry.payload);
    try {
      if (!handler) throw new Error(`no "${entry.event}" handler named "${entry.handler}" in this process`);
      if (!payload) throw new Error('the entry does not open with this secret');
      // Entries of `change` and `withdrawn` are linked to their event, whose id is known only now.
      await handler((entry.eventId === null ? payload : { ...payload, eventId: keyring.eventIds.encode(entry.eventId) }) as Parameters<typeof handler>[0]);
    } catch (error) {
      logger.error(`express-consent: durable handler "${entry.handler}" failed (attempt ${String(entry.attempts + 1)}); will retry`, error);
      const delay = Math.min(timing.retryMs * 2 ** Math.min(entry.attempts, 30), timing.maxRetryMs);
      await tracker.retryOutbox!(entry, Date.now() + delay);
      return false;
    }
    return true;
  }

  /**
   * Entries claimed and not started (stop(), or half the lease gone) are claimable again at once,
   * by this process's next claim or another's, first as they were, instead of held until the
   * lease lapses while later ones go ahead. Not an attempt: `retryOutbox` stores the entry's
   * `attempts + 1`.
   */
  private release(entries: ClaimedOutboxEntry[]): Promise<void> {
    const now = Date.now();
    return Promise.all(entries.map((entry) => this.deps.tracker.retryOutbox!({ ...entry, attempts: entry.attempts - 1 }, now))).then(() => undefined);
  }

  /**
   * Stops polling and waits for the delivery in progress, for one lease (`leaseMs`) at the most:
   * a handler that has not settled by then is left running, and its entry, not deleted, is
   * delivered again once the lease lapses (by this process or another).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const running = this.running;
    if (running === null) return;
    let timer: NodeJS.Timeout | undefined;
    const { leaseMs } = this.deps.timing;
    const ended = await Promise.race([running.then(() => true), new Promise<false>((resolve) => { timer = setTimeout(resolve, leaseMs, false); })]);
    clearTimeout(timer);
    if (!ended) this.deps.logger.warn(`express-consent: a durable handler had not settled ${String(leaseMs)} ms (outbox.leaseMs) after close() was called; its entry will be delivered again`);
  }
}

/**
 * The deletions of a claim's delivered entries: asked together (a tracker may send them as one
 * statement) `COMPLETE_AFTER_MS` after the first of them was delivered, or when the deliveries end.
 */
class Completions {
  private ids: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly sent: Array<Promise<void>> = [];

  constructor(private readonly tracker: Pick<ConsentTracker, 'completeOutbox'>) {}

  add(id: string): void {
    this.ids.push(id);
    this.timer ??= setTimeout(() => { this.send(); }, COMPLETE_AFTER_MS);
  }

  /** Sends what is left; resolves once every deletion is done. */
  end(): Promise<void> {
    this.send();
    return Promise.all(this.sent).then(() => undefined);
  }

  private send(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const id of this.ids) {
      const deletion = this.tracker.completeOutbox!(id);
      // Awaited with the batch; until then a rejection is not unhandled.
      deletion.catch(() => undefined);
      this.sent.push(deletion);
    }
    this.ids = [];
  }
}
