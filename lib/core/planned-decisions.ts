import { ConsentError } from '../errors';
import type { Registry } from '../registry/registry';
import type { PlannedDecision } from '../state/plan';
import type { ParsedDecision } from './input';

/**
 * The registered requirements of parsed decisions, or the error a write reports: unknown
 * requirements (with `unknownStatus`: 422 from the library, 404 for a route's path), or a
 * decision given on a text that is no longer the current version.
 */
export function plannedDecisions(registry: Registry, decisions: ParsedDecision[], unknownStatus: number): PlannedDecision[] {
  const unknown = decisions.filter((d) => !registry.has(d.id)).map((d) => d.id);
  if (unknown.length > 0) {
    throw new ConsentError('unknown_requirement', `no requirement is registered as ${unknown.map((id) => `"${id}"`).join(', ')}`, {
      status: unknownStatus,
      extensions: { ids: unknown },
    });
  }
  const planned = decisions.map((d) => ({ requirement: registry.require(d.id), decision: d.decision, version: d.version }));
  const stale = planned.filter((p) => p.version !== undefined && p.version !== p.requirement.version);
  if (stale.length > 0) {
    throw new ConsentError('version_mismatch', 'the text shown is not the current version: show the current text and ask again', {
      extensions: { requirements: stale.map((p) => ({ id: p.requirement.id, version: p.requirement.version })) },
    });
  }
  return planned.map(({ requirement, decision }) => ({ requirement, decision }));
}
