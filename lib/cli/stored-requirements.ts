import type { StoredRequirementVersion } from '../tracker/records';
import type { LawfulBasis, RequirementDefinition } from '../types';

/** A stored version as a definition: its text in every locale (with the Art. 13 fields) and its start. */
function definitionOf(v: StoredRequirementVersion): RequirementDefinition {
  const text = v.texts
    ? { texts: v.texts.texts, defaultLocale: v.texts.defaultLocale }
    : { title: v.title, description: v.description, url: v.url };
  return {
    id: v.id,
    version: v.version,
    ...text,
    lawfulBasis: v.lawfulBasis as LawfulBasis,
    ...(typeof v.effectiveFrom === 'number' ? { effectiveFrom: v.effectiveFrom } : {}),
  };
}

/**
 * The stored versions current at `now` of every requirement, with those scheduled to start later,
 * as definitions (`versions` by id, then oldest first), so that states can be derived without the
 * application's code. Stored versions keep the text and lawful basis only; the rest (expiry,
 * double opt-in) lives in each stored record, which is all derivation needs.
 */
export function latestDefinitions(versions: readonly StoredRequirementVersion[], now = Date.now()): RequirementDefinition[] {
  const byId = new Map<string, StoredRequirementVersion[]>();
  for (const v of versions) byId.set(v.id, [...(byId.get(v.id) ?? []), v]);
  const out: RequirementDefinition[] = [];
  for (const list of byId.values()) {
    const sorted = [...list].sort((a, b) => a.version - b.version);
    const started = sorted.filter((v) => typeof v.effectiveFrom !== 'number' || v.effectiveFrom <= now);
    const current = started[started.length - 1] ?? sorted[0];
    if (current === undefined) continue;
    const ahead = sorted.filter((v) => v.version > current.version && typeof v.effectiveFrom === 'number');
    out.push(definitionOf(current), ...ahead.map(definitionOf));
  }
  return out;
}
