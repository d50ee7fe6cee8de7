import { audienceThreads } from '../../lib/core/audience-checks';
import { audienceWorkers } from '../../lib/core/audience-pool';

/*
 * The settings of the audience's threads (which `filterAllowed()` shares), as tests change and
 * restore them.
 */

const saved = { size: audienceWorkers.size, script: audienceWorkers.script, ...audienceThreads };

/** The settings as they were when the tests started. */
export function restoreThreads(): void {
  Object.assign(audienceWorkers, { size: saved.size, script: saved.script });
  Object.assign(audienceThreads, { minSubjects: saved.minSubjects, measuredPages: saved.measuredPages, mainBound: saved.mainBound, idleMs: saved.idleMs });
}

/** Two threads judge every page (or batch) from the first (on), or none ever does (off). */
export function threads(on: boolean): void {
  audienceWorkers.size = 2;
  if (on) Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });
  else audienceThreads.minSubjects = Infinity;
}
