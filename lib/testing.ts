/**
 * `express-consent/testing`: the conformance suite every `ConsentTracker` must pass.
 *
 * @packageDocumentation
 */
import { decisionBehaviour } from './testing/behaviour-decisions';
import { versionBehaviour } from './testing/behaviour-versions';
import { historyContract } from './testing/contract-history';
import { capabilityContracts } from './testing/contract-capabilities';
import { proofContract } from './testing/contract-proof';
import { storeContract } from './testing/contract-store';
import { writeContract } from './testing/contract-write';
import { definer, runnerGlobals, type TrackerConformanceOptions } from './testing/harness';

export type { TrackerConformanceOptions } from './testing/harness';

/**
 * Declares the tracker conformance suite with the runner's global `describe` and `it` (mocha,
 * jest, vitest with globals); assertions use `node:assert`. Every test gets a fresh tracker from
 * `create()` and hands it to `destroy()` afterwards. The suite checks the tracker's own contract
 * (atomic `secret()`, `syncRequirement()` outcomes, `write()` atomicity and serialisation,
 * `history()` order and filters, `current()`, the proof methods: scans, heads, the global log,
 * `erase()`, `setting()`) and the library's behaviour on top of it through
 * `createConsent({ tracker })`.
 *
 * @example
 * import { trackerConformance } from 'express-consent/testing';
 * trackerConformance('my Redis tracker', {
 *   create: async () => new RedisTracker(await freshRedis()),
 *   destroy: (tracker) => (tracker as RedisTracker).quit(),
 * });
 */
export function trackerConformance(name: string, options: TrackerConformanceOptions): void {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (typeof options?.create !== 'function') {
    throw new TypeError('trackerConformance(name, { create, destroy? }) needs a create() function');
  }
  const { describe } = runnerGlobals();
  describe(`ConsentTracker conformance: ${name}`, () => {
    const define = definer(options);
    describe('tracker contract', () => {
      storeContract(define);
      writeContract(define);
      historyContract(define);
      proofContract(define);
      capabilityContracts(define);
    });
    describe('behaviour through createConsent', () => {
      decisionBehaviour(define);
      versionBehaviour(define);
    });
  });
}
