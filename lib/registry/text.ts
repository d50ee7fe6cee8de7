import { canonicalJson } from '../audit/canonical-json';
import { sha256Hex } from '../audit/keys';
import type { StoredRequirementVersion, VersionTexts } from '../tracker/records';
import type { LawfulBasis, LocalizedText, Requirement } from '../types';
import { isRich } from './localized';

/**
 * A version's text as `consent.text(hash)` and `GET /texts/:hash` return it: what people were
 * shown, in every locale, with the lawful basis it was asked under.
 */
export interface RequirementText {
  requirement: string;
  version: number;
  /** SHA-256 (hex) of the canonical JSON of `hashedText(...)` of this text. */
  textHash: string;
  lawfulBasis: LawfulBasis;
  defaultLocale: string;
  texts: Record<string, LocalizedText>;
}

/** The part of a version's text beyond the first release's flat one, or null when there is none. */
export function versionTexts(requirement: Requirement): VersionTexts | null {
  const resolved = { defaultLocale: requirement.defaultLocale, texts: requirement.texts };
  return isRich(resolved) ? resolved : null;
}

/**
 * The document a text hash covers. A version with one English text and no Art. 13 field hashes
 * as the first release did (so stored versions people answered keep their hash); any other
 * covers every locale and every field.
 */
export function hashedText(fields: Pick<StoredRequirementVersion, 'title' | 'description' | 'url' | 'lawfulBasis' | 'texts'>): Record<string, unknown> {
  if (fields.texts) return { lawfulBasis: fields.lawfulBasis, defaultLocale: fields.texts.defaultLocale, texts: fields.texts.texts };
  return { title: fields.title, description: fields.description, url: fields.url, lawfulBasis: fields.lawfulBasis };
}

/** The text of a version: what the person was shown. Locked once a decision references it. */
export function requirementText(requirement: Requirement): Record<string, unknown> {
  return hashedText({ ...requirement, texts: versionTexts(requirement) });
}

/** SHA-256 of the canonical JSON of the text (hex): what receipts cite as `textHash`. */
export function textHash(requirement: Requirement): string {
  return sha256Hex(canonicalJson(requirementText(requirement)));
}

/** The text hash a stored version's own fields give. */
export function storedTextHash(version: Pick<StoredRequirementVersion, 'title' | 'description' | 'url' | 'lawfulBasis' | 'texts'>): string {
  return sha256Hex(canonicalJson(hashedText(version)));
}

/** The public form of a stored version's text. */
export function textOfVersion(v: StoredRequirementVersion): RequirementText {
  const texts = v.texts ?? {
    defaultLocale: 'en',
    texts: { en: { title: v.title, description: v.description, url: v.url, controller: null, purposes: null, dataCategories: null, recipients: null, retention: null, transfers: null } },
  };
  return { requirement: v.id, version: v.version, textHash: v.textHash, lawfulBasis: v.lawfulBasis as LawfulBasis, ...texts };
}

/** The version as stored, not yet sealed (`mac` empty: the caller seals it with the secret). */
export function toStoredVersion(requirement: Requirement, now: number): StoredRequirementVersion {
  const texts = versionTexts(requirement);
  const effectiveFrom = requirement.effectiveFrom === null ? null : Date.parse(requirement.effectiveFrom);
  return {
    id: requirement.id,
    version: requirement.version,
    title: requirement.title,
    description: requirement.description,
    url: requirement.url,
    lawfulBasis: requirement.lawfulBasis,
    textHash: textHash(requirement),
    createdAt: now,
    texts,
    effectiveFrom,
    mac: '',
  };
}

/**
 * The hash of a text as `consent.text()` or `GET /texts/:hash` returned it, computed again:
 * equal to its `textHash` (and to a receipt's) when the text is the one the hash stands for.
 *
 * @example textHashOf(await consent.text(receipt.decisions[0].textHash)) === receipt.decisions[0].textHash
 */
export function textHashOf(text: Pick<RequirementText, 'lawfulBasis' | 'defaultLocale' | 'texts'>): string {
  const resolved = { defaultLocale: text.defaultLocale, texts: text.texts };
  const shown = text.texts[text.defaultLocale];
  if (shown === undefined) return '';
  return storedTextHash({ ...shown, lawfulBasis: text.lawfulBasis, texts: isRich(resolved) ? resolved : null });
}
