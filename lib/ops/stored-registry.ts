import type { Knex } from 'knex';
import { toVersion, type Row } from '../knex/rows';
import type { StoredRequirementVersion } from '../tracker/records';
import type { LawfulBasis, RequirementDefinition } from '../types';

/** Every stored requirement version, grouped by id (ids sorted, versions oldest first). */
export async function storedVersions(knex: Knex, prefix: string): Promise<Map<string, StoredRequirementVersion[]>> {
  const rows: Row[] = await knex(`${prefix}requirements`).orderBy([{ column: 'id' }, { column: 'version' }]);
  const byId = new Map<string, StoredRequirementVersion[]>();
  for (const version of rows.map(toVersion)) {
    const list = byId.get(version.id) ?? [];
    list.push(version);
    byId.set(version.id, list);
  }
  return byId;
}

/**
 * The latest stored version of every requirement as definitions, so that states can be derived
 * without the application's code. Stored versions keep the text and lawful basis only; the
 * rest (expiry, double opt-in) lives in each stored record, which is all derivation needs.
 */
export function latestDefinitions(byId: Map<string, StoredRequirementVersion[]>): RequirementDefinition[] {
  return [...byId.values()].map((versions) => {
    const v = versions[versions.length - 1] as StoredRequirementVersion;
    return { id: v.id, version: v.version, title: v.title, description: v.description, url: v.url, lawfulBasis: v.lawfulBasis as LawfulBasis };
  });
}
