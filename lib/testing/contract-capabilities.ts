import assert from 'node:assert/strict';
import { CAPABILITY_METHODS, missingMethods, type CapabilityName } from '../tracker/has-capability';
import { adminContract } from './contract-admin';
import { audienceContract } from './contract-audience';
import { bulkContract } from './contract-bulk';
import { lifecycleContract } from './contract-lifecycle';
import { outboxContract } from './contract-outbox';
import { watchContract } from './contract-watch';
import { runnerGlobals, type Define } from './harness';

const CONTRACTS: Record<CapabilityName, (define: Define) => void> = {
  bulk: bulkContract,
  watch: watchContract,
  lifecycle: lifecycleContract,
  outbox: outboxContract,
  admin: adminContract,
  upgrade: upgradeContract,
  audience: audienceContract,
};

/** A store with nothing to upgrade: nothing pending, nothing sealed. */
function upgradeContract(define: Define): void {
  define('upgrade: a store written by this release has nothing to seal', async (tracker) => {
    if (!tracker.sealPending || !tracker.sealUpgrade) return;
    await tracker.init({ migrate: true });
    assert.equal(await tracker.sealPending(), false);
    const refuse = (): never => { throw new Error('nothing to seal'); };
    assert.equal(await tracker.sealUpgrade({ chain: refuse, version: refuse, log: { begin: refuse, add: refuse, end: refuse } }), false);
  });
}

/**
 * Each optional capability: implemented whole or not at all (a half is a setup error that the
 * library would only find at run time), then its own contract when the tracker offers it.
 */
export function capabilityContracts(define: Define): void {
  const { describe } = runnerGlobals();
  for (const name of Object.keys(CONTRACTS) as CapabilityName[]) {
    describe(`capability: ${name}`, () => {
      // eslint-disable-next-line @typescript-eslint/require-await -- a failed assertion must reject the test's promise
      define(`implements every method of ${name} (${CAPABILITY_METHODS[name].join(', ')}) or none`, async (tracker) => {
        const missing = missingMethods(tracker, name);
        assert.ok(
          missing.length === 0 || missing.length === CAPABILITY_METHODS[name].length,
          `the tracker implements part of the ${name} capability: ${missing.join(', ')} missing`,
        );
        if (name === 'bulk') assert.ok(!tracker.prepareMany || tracker.writeMany, 'prepareMany() needs writeMany()');
      });
      CONTRACTS[name](define);
    });
  }
}
