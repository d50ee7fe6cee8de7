import { textHash } from '../registry/text';
import type { ConsentLogger } from '../options';
import type { StoredRequirementVersion } from '../tracker/records';
import type { Requirement } from '../types';
import { ConsentStoreError } from '../errors';

/*
 * A version's stored text is replaced while nobody has answered it (a typo fixed without a new
 * version). A process started before the fix still shows the old text: a decision it recorded
 * would reference the version, lock the new text, and every receipt and export would cite a
 * text the person never saw. So before a write records a decision on a version, the stored
 * text is compared with the text this process shows. Once a decision references the version,
 * its text can no longer be replaced (`text_changed`), so the check is made once per version.
 */

const keyOf = (r: Pick<Requirement, 'id' | 'version'>) => `${r.id}\n${String(r.version)}`;

/** Which versions' stored texts this process has found equal to its own and seen answered. */
export class StoredTextCheck {
  private readonly locked = new Set<string>();

  constructor(
    private readonly read: (ids: string[]) => Promise<StoredRequirementVersion[]>,
    private readonly logger: ConsentLogger,
  ) {}

  /**
   * Refuses a write on a version whose stored text is not the one this process shows. Resolves to
   * what `answered()` needs once the write committed.
   * @throws ConsentStoreError `store_unavailable` (logged): another process stored another text.
   */
  async check(requirements: readonly Requirement[]): Promise<string[]> {
    const open = requirements.filter((r) => !this.locked.has(keyOf(r)));
    if (open.length === 0) return [];
    const stored = await this.read([...new Set(open.map((r) => r.id))]);
    const differing = open.filter((r) => stored.find((v) => v.id === r.id && v.version === r.version)?.textHash !== textHash(r));
    if (differing.length > 0) {
      const names = differing.map((r) => `"${r.id}" version ${String(r.version)}`).join(', ');
      const message = `the stored text of requirement ${names} is not the text this process shows (another process stored another text of the same version): ` +
        'restart this process with the stored text, or register the new text as a new version';
      const error = new ConsentStoreError(message);
      this.logger.error(`express-consent: ${message}`, error);
      throw error;
    }
    return open.map(keyOf);
  }

  /** The versions of a committed write: their stored text is now locked, and needs no other check. */
  answered(keys: readonly string[]): void {
    for (const key of keys) this.locked.add(key);
  }
}
