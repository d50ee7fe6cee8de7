import { ConsentError } from '../errors';
import { storedTextHash, textOfVersion, type RequirementText } from '../registry/text';
import type { ConsentCore } from './consent-core';
import { integrityFailure } from './trusted';

const TEXT_HASH = /^[0-9a-f]{64}$/;

/** What the text lookup uses of the engine. */
export type TextLookupDeps = Pick<ConsentCore, 'options' | 'registry' | 'tracker' | 'ready' | 'storedVersions'>;

/** `invalid_argument` (400 over HTTP) for a text hash that is not 64 lowercase hex digits. */
export function invalidTextHash(): ConsentError {
  return new ConsentError('invalid_argument', 'a text hash is 64 lowercase hexadecimal digits', {
    extensions: { errors: [{ pointer: '/hash', detail: 'must be 64 lowercase hexadecimal digits' }] },
  });
}

/**
 * The stored text whose hash is `hash` (as receipts and exports cite it), every locale and field,
 * or null when no stored version has it. Only a version whose seal checks and whose text still
 * gives its hash is returned, so a receipt can be checked against what comes back.
 *
 * @throws ConsentError `invalid_argument` when `hash` is not 64 lowercase hex digits.
 */
export async function textByHash(engine: TextLookupDeps, hash: unknown): Promise<RequirementText | null> {
  if (typeof hash !== 'string' || !TEXT_HASH.test(hash)) throw invalidTextHash();
  await engine.ready();
  const { tracker } = engine;
  // Texts of requirements no longer registered stay retrievable when the tracker can list every version.
  const ids = tracker.allRequirementVersions
    ? [...new Set((await tracker.allRequirementVersions()).filter((v) => v.textHash === hash).map((v) => v.id))]
    : engine.registry.list().map((r) => r.id);
  const found = (await engine.storedVersions(ids)).find((v) => v.textHash === hash);
  if (!found) return null;
  if (storedTextHash(found) !== hash) throw integrityFailure(engine.options.logger, `the stored text of requirement "${found.id}" version ${String(found.version)}`);
  return textOfVersion(found);
}
