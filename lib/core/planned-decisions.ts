import { ConsentError } from '../errors';
import type { Registry } from '../registry/registry';
import type { PlannedDecision } from '../state/plan';
import type { ParsedDecision } from './input';
import type { Requirement } from '../types';

/**
 * The registered requirements of parsed decisions, or the error a write reports: unknown
 * requirements (with `unknownStatus`: 422 from the library, 404 for a route's path), or a
 * decision given on a text that is no longer the current version, or in a locale the version
 * does not have (400). A decision records the locale sent, else the version's default.
 */
export function plannedDecisions(registry: Registry, decisions: ParsedDecision[], unknownStatus: number, localePointer?: string): PlannedDecision[] {
  const unknown = decisions.filter((d) => !registry.has(d.id)).map((d) => d.id);
  if (unknown.length > 0) {
    throw new ConsentError('unknown_requirement', `no requirement is registered as ${unknown.map((id) => `"${id}"`).join(', ')}`, {
      status: unknownStatus,
      extensions: { ids: unknown },
    });
  }
  const planned = decisions.map((d) => ({ requirement: registry.require(d.id), decision: d.decision, version: d.version, sent: d.locale }));
  const locales = planned.map((p) => ({ id: p.requirement.id, sent: p.sent, locale: p.sent === undefined ? p.requirement.defaultLocale : matchLocale(p.requirement, p.sent) }));
  const wrong = locales.filter((l) => l.locale === null);
  if (wrong.length > 0) {
    const errors = wrong.map((l) => ({ pointer: localePointer ?? `/decisions/${l.id}/locale`, detail: `"${String(l.sent)}" is not a locale of this text (${(registry.require(l.id).locales).join(', ')})` }));
    throw new ConsentError('invalid_argument', errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '), { extensions: { errors } });
  }
  const stale = planned.filter((p) => p.version !== undefined && p.version !== p.requirement.version);
  if (stale.length > 0) {
    throw new ConsentError('version_mismatch', 'the text shown is not the current version: show the current text and ask again', {
      extensions: { requirements: stale.map((p) => ({ id: p.requirement.id, version: p.requirement.version })) },
    });
  }
  return planned.map(({ requirement, decision }, i) => ({ requirement, decision, locale: locales[i]?.locale ?? null }));
}

/** The version's own spelling of `sent`, matched without regard to case; null when it has no such locale. */
function matchLocale(requirement: Requirement, sent: string): string | null {
  const lower = sent.toLowerCase();
  return requirement.locales.find((locale) => locale.toLowerCase() === lower) ?? null;
}
