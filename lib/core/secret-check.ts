import { versionSealed } from '../audit/head-seal';
import { deriveKeys, hmacHex, sameText } from '../audit/keys';
import { ConsentConfigError } from '../errors';
import type { ConsentLogger } from '../options';
import type { Registry } from '../registry/registry';
import type { ConsentTracker } from '../tracker/tracker';

/*
 * A store refuses a secret other than the one it was written with (a typo, another
 * environment's value): starting anyway would read everyone as unset and write chains that
 * never verify under the right secret. The store keeps a check value, a keyed hash of a fixed
 * text, stored at the first start; a store without one yet (written by an earlier release, or
 * new) is judged by its requirement versions' seals before the value is stored.
 */

const SETTING = 'secret_check';

const checkValue = (key: Buffer): string => hmacHex(key, 'express-consent:secret-check');

// What to do when the store was written with the secret the library generated (no `secret` set).
const GENERATED =
  'The database was written with the development secret generated while no "secret" was set (it is stored in the database). ' +
  'Remove the "secret" option (CONSENT_SECRET for the command line) to keep using this database outside ' +
  'production, or use your secret with a new database: the records of one secret cannot move to another';

function refuse(logger: ConsentLogger, why: string, advice = 'Configure the secret this database was written with'): ConsentConfigError {
  const error = new ConsentConfigError('invalid_option', `the secret is not the one this database was written with: ${why}. ${advice}`);
  logger.error(`express-consent: ${error.message}`, error);
  return error;
}

/**
 * Before anything is sealed or stored: refuses a secret whose check value is not the one the
 * store holds. Resolves to whether the store holds one (a tracker that cannot read a setting
 * without storing it is judged by `markSecret` instead).
 *
 * @throws ConsentConfigError `invalid_option`, after logging it.
 */
export async function refuseOtherSecret(tracker: ConsentTracker, key: Buffer, logger: ConsentLogger): Promise<boolean> {
  if (!tracker.readSetting) return false;
  const stored = await tracker.readSetting(SETTING);
  if (stored === null) return false;
  if (sameText(checkValue(key), stored)) return true;
  const generated = await tracker.readSetting('secret');
  if (generated !== null && sameText(checkValue(deriveKeys(Buffer.from(generated, 'utf8')).chain), stored)) {
    throw refuse(logger, 'it does not give the check value stored with the database', `${GENERATED}.`);
  }
  throw refuse(logger, 'it does not give the check value stored with the database');
}

/**
 * Whether the store is bound to a secret: it holds a check value, or (written by a release before
 * check values) sealed requirement versions. A store that is not takes the check value of the
 * first secret it starts with.
 */
export async function secretBound(tracker: ConsentTracker): Promise<boolean> {
  if (!tracker.readSetting) return true;
  if ((await tracker.readSetting(SETTING)) !== null) return true;
  return (await tracker.allRequirementVersions?.())?.some((v) => typeof v.mac === 'string' && v.mac !== '') === true;
}

/**
 * Before a generated secret is stored (no `secret` set): refuses a store written with a
 * configured secret (it holds no generated one, but a check value or sealed requirement versions,
 * from a release before check values), which starting would add a generated secret to.
 *
 * @throws ConsentConfigError `invalid_option`, after logging it.
 */
export async function refuseMissingSecret(tracker: ConsentTracker, logger: ConsentLogger): Promise<void> {
  if (!tracker.readSetting || (await tracker.readSetting('secret')) !== null) return;
  if (!(await secretBound(tracker))) return;
  // A process starting at the same time without a secret stores its generated one before its
  // check value or any seal: found now, it is the secret this store was written with.
  if ((await tracker.readSetting('secret')) !== null) return;
  throw refuse(logger, 'no "secret" is set, and the database was written with one', 'Set "secret" (CONSENT_SECRET for the command line) to the secret it was written with');
}

/**
 * For a store without a check value: refuses the secret when the store holds sealed requirement
 * versions and not one of them checks with it (or every one was changed without it), then
 * stores the value. Atomic: of processes starting together with different secrets, one stores
 * its value and the others are refused. Versions without a seal (an upgrade not sealed yet) are
 * not counted.
 *
 * @throws ConsentConfigError `invalid_option`, after logging it.
 */
export async function markSecret(registry: Registry, tracker: ConsentTracker, key: Buffer, logger: ConsentLogger): Promise<void> {
  const versions = tracker.allRequirementVersions
    ? await tracker.allRequirementVersions()
    : await tracker.requirementVersions(registry.allVersions().map((r) => r.id));
  const sealed = versions.filter((v) => typeof v.mac === 'string' && v.mac !== '');
  if (sealed.length > 0 && !sealed.some((v) => versionSealed(key, v))) {
    throw refuse(logger, `none of its ${String(sealed.length)} stored requirement versions checks with it (or every one was changed without it)`);
  }
  const value = checkValue(key);
  if (!sameText(value, await tracker.setting(SETTING, value))) throw refuse(logger, 'a process starting at the same time stored the check value of another secret');
}
