import { createConsent, type Consent } from '../create-consent';
import type { ConsentLogger, ConsentOptions } from '../options';
import type { ConsentTracker } from '../tracker/tracker';
import type { RequirementDefinition } from '../types';

/** How `trackerConformance` obtains and releases the tracker under test. */
export interface TrackerConformanceOptions {
  /** Returns a fresh, empty tracker (or a Promise of one). Called once for every test. */
  create(): ConsentTracker | Promise<ConsentTracker>;
  /** Releases what `create` opened. Called after every test, also after a failure. */
  destroy?(tracker: ConsentTracker): void | Promise<void>;
}

interface RunnerGlobals {
  describe: (title: string, body: () => void) => void;
  it: (title: string, body: () => Promise<void>) => void;
}

/** The runner's global `describe` and `it` (mocha, jest, vitest with globals…). */
export function runnerGlobals(): RunnerGlobals {
  const scope = globalThis as unknown as Partial<RunnerGlobals>;
  if (typeof scope.describe !== 'function' || typeof scope.it !== 'function') {
    throw new Error('trackerConformance needs a test runner that provides global describe() and it()');
  }
  return { describe: scope.describe.bind(globalThis), it: scope.it.bind(globalThis) };
}

/** Declares one test that gets a fresh tracker, released afterwards whatever happens. */
export type Define = (title: string, body: (tracker: ConsentTracker) => Promise<void>) => void;

export function definer(options: TrackerConformanceOptions): Define {
  const { it } = runnerGlobals();
  return (title, body) => {
    it(title, async () => {
      const tracker = await options.create();
      try {
        await body(tracker);
      } finally {
        await options.destroy?.(tracker);
      }
    });
  };
}

/** A fixed secret for the suite (never use a constant secret in an application). */
export const SUITE_SECRET = 'conformance-suite-secret-0123456789abcdef';

/** A clock the tests move by hand. */
export class ManualClock {
  constructor(public ms = Date.UTC(2025, 0, 15, 12, 0, 0)) {}
  readonly now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A logger that keeps what it is told, so tests can check warnings. */
export function memoryLogger(): ConsentLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, warn: (m) => warnings.push(m), error: (m) => errors.push(m) };
}

export const DAY_MS = 86_400_000;

/** A requirement definition with the mandatory text filled in. */
export function requirement(id: string, extra: Partial<RequirementDefinition> = {}): RequirementDefinition {
  return { id, title: `Title of ${id}`, description: `What ${id} means for you.`, ...extra };
}

/** A ready consent instance over `tracker`, with the suite's secret and clock. */
export async function openConsent(
  tracker: ConsentTracker,
  defs: RequirementDefinition[],
  options: Omit<ConsentOptions, 'tracker'> = {},
): Promise<Consent> {
  const consent = createConsent({ tracker, secret: SUITE_SECRET, logger: memoryLogger(), ...options });
  consent.register(defs);
  await consent.ready();
  return consent;
}
