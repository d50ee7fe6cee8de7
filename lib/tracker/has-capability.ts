import type { AdminCapability } from './admin-capability';
import type { AudienceCapability } from './audience-capability';
import type { BulkCapability, LifecycleCapability, OutboxCapability, UpgradeCapability, WatchCapability } from './capabilities';
import type { ConsentTracker } from './tracker';

/** The optional capabilities of a tracker, by name. */
export interface OptionalCapabilities {
  bulk: BulkCapability;
  watch: WatchCapability;
  lifecycle: LifecycleCapability;
  outbox: OutboxCapability;
  admin: AdminCapability;
  upgrade: UpgradeCapability;
  audience: AudienceCapability;
}

/** The name of an optional tracker capability. */
export type CapabilityName = keyof OptionalCapabilities;

/** The methods each optional capability must have (`prepareMany` within `bulk` and `outboxClaimed` within `outbox` stay optional). */
export const CAPABILITY_METHODS: { readonly [N in CapabilityName]: ReadonlyArray<keyof OptionalCapabilities[N] & string> } = {
  bulk: ['writeMany'],
  watch: ['subscribe'],
  lifecycle: ['lapsedGrants'],
  outbox: ['claimOutbox', 'completeOutbox', 'retryOutbox'],
  admin: ['auditEvents', 'stats', 'dailyCounts', 'allRequirementVersions', 'readSetting'],
  upgrade: ['sealPending', 'sealUpgrade'],
  audience: ['audience', 'storeSealedSubject', 'snapshots'],
};

/** The methods of capability `name` that `tracker` lacks (empty when it has them all). */
export function missingMethods(tracker: ConsentTracker, name: CapabilityName): string[] {
  const methods: ReadonlyArray<string> = CAPABILITY_METHODS[name];
  return methods.filter((method) => typeof (tracker as unknown as Record<string, unknown>)[method] !== 'function');
}

/**
 * Whether `tracker` implements every method of the optional capability `name`.
 *
 * @example
 * if (hasCapability(tracker, 'admin')) await tracker.stats(Date.now());
 */
export function hasCapability<N extends CapabilityName>(
  tracker: ConsentTracker,
  name: N,
): tracker is ConsentTracker & OptionalCapabilities[N] {
  return missingMethods(tracker, name).length === 0;
}
