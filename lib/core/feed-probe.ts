/**
 * How many heartbeats in a row may pass without the latest test notification arriving before
 * the feed is reported as not delivering.
 */
export const SILENT_BEATS = 3;

/** What a heartbeat should do: send this probe, and whether to report the feed silent now. */
export interface ProbeBeat {
  /** The payload of the test notification to send. */
  readonly payload: string;
  /** True once per silence: the last `SILENT_BEATS` probes did not come back. */
  readonly silent: boolean;
}

/**
 * The bookkeeping of a change feed's delivery check, without timers or I/O. A feed that answers
 * queries may still not deliver notifications (a pooler in transaction mode hands the listening
 * session's notifications to no one), so each heartbeat sends a test notification from another
 * connection, as other processes' writes do, and only its arrival on the listening connection
 * confirms the feed. Notifications arrive in commit order, so the arrival of the latest probe
 * means every notification committed before it was sent has arrived too.
 *
 * Only the latest probe counts: one that comes back after a newer one was sent proves delivery
 * only up to an older moment, and is ignored.
 */
export class FeedProbe {
  private sent = 0;
  /** Heartbeats since the latest probe sent was confirmed (or since the start). */
  private unanswered = 0;
  private reported = false;

  /** @param tag distinguishes this listener's probes from anything else on its channel. */
  constructor(private readonly tag: string) {}

  /** The number of the latest probe sent (1 for the first; 0 before any). */
  get latest(): number {
    return this.sent;
  }

  /** A heartbeat: the probe to send now, and whether the feed has just been found silent. */
  beat(): ProbeBeat {
    const silent = this.beatWithoutProbe();
    this.sent += 1;
    return { payload: `${this.tag}:${String(this.sent)}`, silent };
  }

  /**
   * A heartbeat that sends no probe (the previous one is still on its way out): true once per
   * silence, like `beat().silent`.
   */
  beatWithoutProbe(): boolean {
    this.unanswered += 1;
    const silent = !this.reported && this.unanswered > SILENT_BEATS;
    if (silent) this.reported = true;
    return silent;
  }

  /** A notification arrived on the probe channel: true when it confirms the feed. */
  arrived(payload: string): boolean {
    if (payload !== `${this.tag}:${String(this.sent)}`) return false;
    this.unanswered = 0;
    this.reported = false;
    return true;
  }
}
