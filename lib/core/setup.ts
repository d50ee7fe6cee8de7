import { randomBytes } from 'node:crypto';
import { ConsentConfigError } from '../errors';
import type { ResolvedOptions } from '../options';
import type { Registry } from '../registry/registry';
import { versionSeal } from '../audit/head-seal';
import { toStoredVersion } from '../registry/text';
import type { ConsentTracker } from '../tracker/tracker';
import { refuseMissingSecret } from './secret-check';
import { warnOnce } from './warn-once';

/**
 * The secret: the configured one, or (outside production) one generated once and kept in the
 * store, so that every process sharing the database derives the same pseudonyms.
 */
export async function resolveSecret(options: ResolvedOptions, tracker: ConsentTracker): Promise<Buffer> {
  if (options.secret) return options.secret;
  await refuseMissingSecret(tracker, options.logger);
  const stored = await tracker.secret(randomBytes(32).toString('base64url'));
  warnOnce(
    options.logger,
    'express-consent: no "secret" option; using a generated secret kept with the consent data (in the database; in memory with MemoryTracker). ' +
      'Set a secret of at least 32 bytes before production: pseudonyms and the audit chain depend on it.',
  );
  return Buffer.from(stored, 'utf8');
}

/**
 * Stores every registered requirement version and applies the versioning rules:
 * a lower version than stored is `version_downgrade`; a changed text of a version that a
 * decision references is `text_changed`. Each version is stored with its seal (`key`).
 */
export async function syncRequirements(registry: Registry, tracker: ConsentTracker, now: number, key: Buffer): Promise<void> {
  const all = registry.allVersions();
  const highest = new Map(all.map((r) => [r.id, r.version]));
  for (const requirement of all) {
    const version = toStoredVersion(requirement, now);
    version.mac = versionSeal(key, version);
    const outcome = await tracker.syncRequirement(version, { highestRegistered: highest.get(requirement.id) });
    // An earlier version registered beside a later one (scheduled) that is already stored: a
    // tracker that does not take `highestRegistered` refuses it as a downgrade, so its stored
    // text is compared here.
    if (outcome.kind === 'downgrade' && outcome.highest <= (highest.get(requirement.id) ?? 0)) {
      const [stored] = (await tracker.requirementVersions([requirement.id])).filter((v) => v.version === requirement.version);
      if (stored === undefined || stored.textHash === version.textHash) continue;
      throw textChanged(requirement.id, requirement.version);
    }
    if (outcome.kind === 'downgrade') {
      throw new ConsentConfigError(
        'version_downgrade',
        `requirement "${requirement.id}" is registered as version ${String(requirement.version)}, but version ` +
          `${String(outcome.highest)} is already stored: register version ${String(outcome.highest)} or higher`,
        { extensions: { id: requirement.id, version: requirement.version, stored: outcome.highest } },
      );
    }
    if (outcome.kind === 'text_changed') {
      const stored = (await tracker.requirementVersions([requirement.id])).some((v) => v.version === requirement.version);
      throw stored ? textChanged(requirement.id, requirement.version) : textGone(requirement.id, requirement.version);
    }
  }
}

function textGone(id: string, version: number): ConsentConfigError {
  return new ConsentConfigError(
    'text_changed',
    `requirement "${id}" version ${String(version)} has decisions but no stored text (its row was deleted from the database): ` +
      'restore the requirements table from a backup; the registered text is not stored in its place, since nothing would show it is the one people saw',
    { extensions: { id, version } },
  );
}

function textChanged(id: string, version: number): ConsentConfigError {
  return new ConsentConfigError(
    'text_changed',
    `the text of requirement "${id}" version ${String(version)} differs from the ` +
      'stored text, which people have already answered: bump its version to change the text',
    { extensions: { id, version } },
  );
}
