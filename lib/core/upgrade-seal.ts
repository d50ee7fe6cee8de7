import { legacyHeadMac } from '../audit/chain';
import { headSeal, isUnsealedEmpty, versionSeal } from '../audit/head-seal';
import { LogFolder } from '../audit/log-seal';
import { ChainRehash } from '../audit/upgrade-rehash';
import { storedTextHash } from '../registry/text';
import { ConsentIntegrityError } from '../errors';
import type { ConsentLogger } from '../options';
import type { ChainUpgrade, UpgradeSealer } from '../tracker/capabilities';
import type { SealedHead, StoredEvent, StoredRequirementVersion } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import { verifyStore, type VerifyKeys } from './verify';

/** The text hash a stored version's own text gives (what `textHash` computed when it was stored). */
function ownTextHash(v: StoredRequirementVersion): string {
  return storedTextHash(v);
}

// The refusals `refuse` made (and logged); another integrity error, the tracker's own, is logged through it.
const refusals = new WeakSet<Error>();

function refuse(logger: ConsentLogger, detail: string, extensions: Record<string, unknown> = {}): ConsentIntegrityError {
  const message =
    `the upgraded store was not sealed: ${detail}. Its rows stay unsealed and every read of them ` +
    'fails as a storage failure. Check that the secret is the one the database was written with; if it is, restore ' +
    'the backup taken before the upgrade, or investigate with the previous release';
  const error = new ConsentIntegrityError(message);
  Object.assign(error.extensions, extensions);
  // With the error, so that a caller that logs what it catches (the command line) says it once.
  logger.error(`express-consent: ${message}`, error);
  refusals.add(error);
  return error;
}

/**
 * Seals a store that an upgrade migrated (heads bound to their link and records, requirement
 * versions), once, rewriting the events of release 1 in the current format (`ChainRehash`).
 * The proof the store had before is verified first, with the secret: every chain (in either
 * format), the global log (that it lists every event), every head against the seal of the
 * previous release, every record against its chain's events, and each version's text against
 * its text hash. A store that fails is not sealed (it is reported, and stays refused). Several
 * processes starting at once seal once: the tracker holds a lock, and a head that moved since
 * it was verified is refused too.
 *
 * @throws ConsentIntegrityError (`store_unavailable`) when the old proof does not verify.
 */
export async function sealUpgradedStore(tracker: ConsentTracker, keys: VerifyKeys, logger: ConsentLogger): Promise<void> {
  if (!tracker.sealPending || !tracker.sealUpgrade || !(await tracker.sealPending())) return;
  const before = await verifyStore(tracker, keys, undefined, { legacy: true });
  if (!before.ok) {
    // Another process may have sealed the store while this one read it: the heads it sealed
    // fail the previous release's check. That process verified the old proof itself.
    if (!(await tracker.sealPending())) return;
    throw refuse(logger, `verify() of the history as it was found ${String(before.problems.length)} problems`, { problems: before.problems });
  }
  const sealed = await tracker.sealUpgrade(sealerOf(keys, logger)).catch((error: unknown) => {
    // The tracker found the store inconsistent itself (an event without a head): refused as the rest.
    if (error instanceof ConsentIntegrityError && !refusals.has(error)) throw refuse(logger, error.message);
    throw error;
  });
  if (sealed) logger.warn('express-consent: sealed the rows of the store upgraded to this release (a one-time step)');
}

/** What checks and seals each chain and requirement version of the upgraded store, inside the tracker's transaction. */
function sealerOf(keys: VerifyKeys, logger: ConsentLogger): UpgradeSealer {
  const key = keys.chain;
  return {
    // The migration logged the events before the log had a head: this seal starts it.
    log: new LogFolder(keys.log, true),
    chain(head: SealedHead): ChainUpgrade {
      // Without a seal, only a chain nothing was ever written to (its events, if any, then fail `headHash`).
      const unsealed = head.mac === '' && isUnsealedEmpty({ ...head, headId: head.id });
      if (!unsealed && legacyHeadMac(key, head) !== head.mac) throw refuse(logger, `the head of chain ${head.chain} changed while it was verified`);
      const rehash = new ChainRehash(key, head);
      const checked = <T>(step: () => T): T => {
        try {
          return step();
        } catch (error) {
          throw refuse(logger, (error as Error).message);
        }
      };
      return {
        event: (event: StoredEvent) => checked(() => rehash.push(event)),
        seal: () => checked(() => {
          const hash = rehash.headHash();
          return unsealed ? '' : headSeal(key, { ...head, hash }, head.records);
        }),
      };
    },
    version(version: StoredRequirementVersion) {
      if (ownTextHash(version) !== version.textHash) throw refuse(logger, `the stored text of requirement "${version.id}" version ${String(version.version)} does not match its text hash`);
      return versionSeal(key, version);
    },
  };
}
