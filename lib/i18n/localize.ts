import type { LocalizedText, Requirement } from '../types';
import { lookup } from './negotiate';

/** A requirement as a person is shown it: every field, the text in `locale`, and which locale that is. */
export type ShownRequirement = Requirement & { locale: string };

/** The locale of `requirement` to show for the ranges (most preferred first): RFC 4647 lookup, else its default. */
export function localeOf(requirement: Requirement, ranges: readonly string[]): string {
  return lookup(ranges, requirement.locales) ?? requirement.defaultLocale;
}

/** The requirement with its text in `locale` (one of its locales; else its default). */
export function shownIn(requirement: Requirement, locale: string): ShownRequirement {
  const text = requirement.texts[locale];
  if (text === undefined) return { ...requirement, locale: requirement.defaultLocale };
  return { ...requirement, ...text, locale };
}

/** The text of `requirement` in `locale`, or in its default locale. */
export function textIn(requirement: Requirement, locale: string | null): LocalizedText {
  return (locale === null ? undefined : requirement.texts[locale]) ?? (requirement.texts[requirement.defaultLocale] as LocalizedText);
}

/**
 * The locale a listing of several requirements is in: the best match among all their locales,
 * else the first one's default (`en` for none).
 */
export function listingLocale(requirements: readonly Requirement[], ranges: readonly string[]): string {
  const all = [...new Set(requirements.flatMap((r) => r.locales))];
  return lookup(ranges, all) ?? requirements[0]?.defaultLocale ?? 'en';
}
