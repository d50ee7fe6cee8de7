import { nextTurn } from '../event-loop-turns';

/** What a run answers for one of its inputs: a value, or an error for that input alone. */
export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** Options of a `Coalescer`. */
export interface CoalescerOptions<I> {
  /** Runs allowed in flight at once (the connections worth keeping busy). */
  concurrency: number;
  /** Inputs per run at most. */
  maxBatch: number;
  /**
   * Inputs with the same key never share a run: the later one waits for a later run, in
   * arrival order. Without it, any inputs may share a run.
   */
  key?: (input: I) => string;
  /**
   * Wait one turn of the event loop before each run, so that every request whose I/O is ready
   * by then joins it. For a synchronous driver: a run blocks the loop, so without the wait
   * nothing could arrive while one is in flight and every run would hold one request.
   */
  gather?: boolean;
  /**
   * After a run of several inputs, wait up to this many milliseconds for as many to queue
   * before the next run (0: never wait). Whoever sent the last run's inputs is about to send
   * the next ones: a run started at once would take the one input that came meanwhile alone,
   * and its successor would then wait a whole run. A lone input (the last run held one) never
   * waits.
   */
  lingerMs?: number;
}

interface Waiting<I, O> {
  input: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * Runs requests that arrive together as one call (a statement or a transaction for many
 * subjects instead of one each). A request made while fewer than `concurrency` runs are in
 * flight starts a run at once (with `gather`, after the current turn of the event loop), so a
 * lone request waits for nothing; otherwise it waits for a run to finish and joins the next
 * one with everything else that waited. A run therefore always starts after each of its
 * requests was made: it never answers with older data.
 */
export class Coalescer<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private inFlight = 0;
  /** Inputs the last run held. */
  private lastRun = 0;
  /** Ends the current linger early, once enough inputs have queued. */
  private release: (() => void) | null = null;

  constructor(
    private readonly run: (inputs: I[]) => Promise<Outcome<O>[]>,
    private readonly options: CoalescerOptions<I>,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.release !== null && this.queue.length >= this.lastRun) this.release();
      if (this.inFlight < this.options.concurrency) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight += 1;
    try {
      for (;;) {
        // Awaited only when it waits: a lone input starts in the caller's turn.
        if (this.lingering()) await this.linger();
        if (this.options.gather) await nextTurn();
        const batch = this.take();
        if (batch.length === 0) {
          this.lastRun = 0;
          break;
        }
        this.lastRun = batch.length;
        await this.settle(batch);
      }
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Whether to wait before the next run: the last one held several, and fewer wait now. */
  private lingering(): boolean {
    return (this.options.lingerMs ?? 0) > 0 && this.lastRun >= 2 && this.queue.length < this.lastRun && this.release === null;
  }

  /** Waits until as many inputs as the last run held are queued, or `lingerMs` at most. */
  private linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.release?.(); }, this.options.lingerMs);
      this.release = () => {
        clearTimeout(timer);
        this.release = null;
        resolve();
      };
    });
  }

  private async settle(batch: Waiting<I, O>[]): Promise<void> {
    let outcomes: Outcome<O>[];
    try {
      outcomes = await this.run(batch.map((waiting) => waiting.input));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, i) => {
      const outcome = outcomes[i] as Outcome<O>;
      if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.error);
    });
  }

  /** The next run's inputs, oldest first, without two of one key. */
  private take(): Waiting<I, O>[] {
    const { key, maxBatch } = this.options;
    if (!key) return this.queue.splice(0, maxBatch);
    const taken: Waiting<I, O>[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < this.queue.length && taken.length < maxBatch; ) {
      const waiting = this.queue[i] as Waiting<I, O>;
      const k = key(waiting.input);
      if (keys.has(k)) {
        i += 1;
        continue;
      }
      keys.add(k);
      taken.push(waiting);
      this.queue.splice(i, 1);
    }
    return taken;
  }
}

