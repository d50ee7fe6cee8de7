import { versionSealed } from '../audit/head-seal';
import type { IntegrityProblem } from '../audit/verify-chain';
import { ERASE_REQUIREMENT } from '../state/plan-erase';
import type { StoredEvent, StoredRequirementVersion } from '../tracker/records';

/*
 * The stored requirement versions against what verification read: each must carry its seal, and
 * every version an event was decided under must still be stored (its text is what the event
 * proves was shown). Pure.
 */

const problem = (id: string, version: number): IntegrityProblem => ({ eventId: `requirement:${id}:${String(version)}`, kind: 'text_changed', requirement: id, version });

/** A `text_changed` problem for each stored requirement version whose seal fails. */
export function versionProblems(key: Buffer, versions: readonly StoredRequirementVersion[]): IntegrityProblem[] {
  return versions.filter((v) => !versionSealed(key, v)).map((v) => problem(v.id, v.version));
}

/**
 * The requirement versions the events read were decided under through the library: not an
 * erasure's marker, nor an import, which may name a version never stored (it keeps no text).
 */
export class ReferencedVersions {
  private readonly byId = new Map<string, Set<number>>();

  /** Notes the version `event` was decided under. */
  add(event: Pick<StoredEvent, 'requirement' | 'version' | 'source'>): void {
    if (event.requirement === ERASE_REQUIREMENT || event.source === 'import') return;
    let versions = this.byId.get(event.requirement);
    if (versions === undefined) this.byId.set(event.requirement, (versions = new Set()));
    versions.add(event.version);
  }

  /** The requirement ids noted. */
  get ids(): string[] {
    return [...this.byId.keys()];
  }

  /**
   * A `text_changed` problem for each version noted that `stored` lacks: its row was deleted, so
   * nothing shows which text the people who answered it saw.
   */
  missingFrom(stored: readonly StoredRequirementVersion[]): IntegrityProblem[] {
    const kept = new Set(stored.map((v) => `${v.id}\n${String(v.version)}`));
    const out: IntegrityProblem[] = [];
    for (const [id, versions] of [...this.byId].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const version of [...versions].sort((a, b) => a - b)) if (!kept.has(`${id}\n${String(version)}`)) out.push(problem(id, version));
    }
    return out;
  }
}
