import { ConsentConfigError } from '../errors';
import { INSTANT_RULE, parseInstant } from '../instant';
import type { LawfulBasis, LocalizedText, Requirement, RequirementDefinition } from '../types';
import { INFO_FIELDS, resolveTexts } from './localized';

/** Requirement ids: lower-case, stable, safe in URLs and SQL identifiers' values. */
export const REQUIREMENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const LAWFUL_BASES: readonly LawfulBasis[] = [
  'consent',
  'legitimate_interests',
  'contract',
  'legal_obligation',
  'vital_interests',
  'public_task',
];

const FIELDS = new Set([
  'id', 'version', 'title', 'description', 'url', 'lawfulBasis',
  'mandatory', 'expiresAfterDays', 'doubleOptIn', 'gpc', 'texts', 'defaultLocale', 'effectiveFrom', ...INFO_FIELDS,
]);

function fail(id: unknown, field: string, why: string): never {
  const who = typeof id === 'string' ? `requirement "${id}"` : 'a requirement';
  throw new ConsentConfigError('invalid_requirement', `${who}: field "${field}" ${why}`, {
    extensions: { field },
  });
}

function flag(def: RequirementDefinition, field: 'mandatory' | 'doubleOptIn' | 'gpc'): boolean {
  const value = def[field] ?? false;
  if (typeof value !== 'boolean') fail(def.id, field, 'must be a boolean');
  return value;
}

/** The longest `expiresAfterDays`. */
export const MAX_EXPIRY_DAYS = 100_000;

function positiveInt(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function effectiveFrom(def: RequirementDefinition): string | null {
  const value = def.effectiveFrom ?? null;
  if (value === null) return null;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? parseInstant(value) ?? NaN : typeof value === 'number' ? value : NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) fail(def.id, 'effectiveFrom', `must be a Date, epoch milliseconds or ${INSTANT_RULE}`);
  return new Date(ms).toISOString();
}

/**
 * Validates a requirement definition and fills in defaults.
 * @throws ConsentConfigError `invalid_requirement` naming the field at fault.
 */
export function normalizeRequirement(input: unknown): Requirement {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConsentConfigError('invalid_requirement', 'a requirement must be an object');
  }
  const def = input as RequirementDefinition;
  for (const key of Object.keys(def)) {
    if (!FIELDS.has(key)) fail(def.id, key, 'is not a requirement field');
  }
  if (typeof def.id !== 'string' || !REQUIREMENT_ID.test(def.id)) {
    fail(def.id, 'id', 'must match ^[a-z0-9][a-z0-9._-]{0,63}$');
  }
  const version = def.version ?? 1;
  if (!positiveInt(version)) fail(def.id, 'version', 'must be a positive integer');
  const lawfulBasis = def.lawfulBasis ?? 'consent';
  if (!LAWFUL_BASES.includes(lawfulBasis)) {
    fail(def.id, 'lawfulBasis', `must be one of ${LAWFUL_BASES.join(', ')}`);
  }
  const expiresAfterDays = def.expiresAfterDays ?? null;
  // Expiry times are stored as exact integers: past about 270 years they would leave that range
  // for dates a store may hold (use null for a grant that does not expire).
  if (expiresAfterDays !== null && (!positiveInt(expiresAfterDays) || (expiresAfterDays) > MAX_EXPIRY_DAYS)) {
    fail(def.id, 'expiresAfterDays', `must be a positive integer up to ${String(MAX_EXPIRY_DAYS)}, or null for no expiry`);
  }
  const { defaultLocale, texts } = resolveTexts(def);
  const shown = texts[defaultLocale] as LocalizedText;
  const requirement: Requirement = {
    id: def.id,
    version,
    ...shown,
    defaultLocale,
    locales: Object.keys(texts),
    texts,
    effectiveFrom: effectiveFrom(def),
    lawfulBasis,
    mandatory: flag(def, 'mandatory'),
    expiresAfterDays,
    doubleOptIn: flag(def, 'doubleOptIn'),
    gpc: flag(def, 'gpc'),
  };
  if (requirement.doubleOptIn && lawfulBasis !== 'consent') {
    fail(def.id, 'doubleOptIn', 'needs lawfulBasis "consent"');
  }
  if (requirement.gpc && lawfulBasis !== 'consent' && lawfulBasis !== 'legitimate_interests') {
    fail(def.id, 'gpc', 'needs lawfulBasis "consent" or "legitimate_interests"');
  }
  return Object.freeze(requirement);
}
