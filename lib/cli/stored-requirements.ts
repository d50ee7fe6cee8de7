import type { StoredRequirementVersion } from '../tracker/records';
import type { LawfulBasis, RequirementDefinition } from '../types';

/**
 * The latest stored version of every requirement as definitions (`versions` by id, then oldest
 * first), so that states can be derived without the application's code. Stored versions keep
 * the text and lawful basis only; the rest (expiry, double opt-in) lives in each stored record,
 * which is all derivation needs.
 */
export function latestDefinitions(versions: readonly StoredRequirementVersion[]): RequirementDefinition[] {
  const latest = new Map<string, StoredRequirementVersion>();
  for (const v of versions) {
    const seen = latest.get(v.id);
    if (!seen || v.version > seen.version) latest.set(v.id, v);
  }
  return [...latest.values()].map((v) => ({
    id: v.id,
    version: v.version,
    title: v.title,
    description: v.description,
    url: v.url,
    lawfulBasis: v.lawfulBasis as LawfulBasis,
  }));
}
