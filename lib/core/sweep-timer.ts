import type { ConsentLogger } from '../options-types';

/**
 * The sweep on a timer (`sweep.intervalMs`), which never keeps the process alive. A sweep that
 * fails is logged, except one cut short by `stop()` (`consent.close()` refuses its next storage
 * call): nothing went wrong there.
 */
export class SweepTimer {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly sweep: () => Promise<unknown>, private readonly logger: ConsentLogger) {}

  start(intervalMs: number): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) => {
        if (!this.stopped) this.logger.error('express-consent: sweep failed', error);
      });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
