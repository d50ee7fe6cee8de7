import { ConsentConfigError } from '../errors';
import type { Requirement } from '../types';

/*
 * Versions that start on a date: the versions of one requirement ordered by version, each
 * current from its `effectiveFrom` until the next one's. The oldest registered version is
 * current from the start, whatever its date says (there is no earlier one to show). Pure.
 */

/** A requirement's current version at an instant, and the interval (ms) it is current in. */
export interface Schedule {
  current: Requirement;
  /** When it became current (-Infinity: always). */
  from: number;
  /** When the next version starts (Infinity: none registered). */
  until: number;
}

const startOf = (r: Requirement): number => (r.effectiveFrom === null ? -Infinity : Date.parse(r.effectiveFrom));

/**
 * The versions of one requirement, oldest first, checked: distinct versions, and every later
 * version scheduled (`effectiveFrom`) after the one before it.
 * @throws ConsentConfigError `duplicate_requirement` (the same version twice) or `invalid_requirement`.
 */
export function scheduleOf(versions: Requirement[], registrant: string): Requirement[] {
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i += 1) {
    const previous = sorted[i - 1] as Requirement;
    const next = sorted[i] as Requirement;
    if (next.version === previous.version) {
      throw new ConsentConfigError('duplicate_requirement', `requirement "${next.id}" version ${String(next.version)} is registered twice by ${registrant}`, {
        extensions: { id: next.id, registrants: [registrant, registrant] },
      });
    }
    if (next.effectiveFrom === null || startOf(next) <= startOf(previous)) {
      throw new ConsentConfigError(
        'invalid_requirement',
        `requirement "${next.id}": field "effectiveFrom" of version ${String(next.version)} must be set, and later than that of version ${String(previous.version)}, ` +
          'when several versions are registered',
        { extensions: { field: 'effectiveFrom' } },
      );
    }
  }
  return sorted;
}

/** The version current at `now` among `versions` (oldest first, as `scheduleOf` returns them). */
export function currentOf(versions: readonly Requirement[], now: number): Schedule {
  let index = 0;
  for (let i = 1; i < versions.length; i += 1) if (startOf(versions[i] as Requirement) <= now) index = i;
  const next = versions[index + 1];
  return {
    current: versions[index] as Requirement,
    from: index === 0 ? -Infinity : startOf(versions[index] as Requirement),
    until: next === undefined ? Infinity : startOf(next),
  };
}
