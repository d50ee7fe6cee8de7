import { hasRewrittenCharacter, isLocalPath } from '../local-url';
import { ConsentConfigError } from '../errors';
import { isLocaleTag } from '../i18n/negotiate';
import type { LocalizedText, RequirementDefinition } from '../types';
import { atMostCharacters, storableText } from '../characters';

/*
 * The texts of a requirement version: what a person is shown, in each locale, with what GDPR
 * Art. 13 asks to tell them. Validated and completed here, once, at registration.
 */

/** The Art. 13 fields: at the top of a definition for every locale, or in `texts[locale]` for one. */
export const INFO_FIELDS = ['controller', 'purposes', 'dataCategories', 'recipients', 'retention', 'transfers'] as const;

const UNSTORABLE = 'must be well-formed Unicode without U+0000 (a lone surrogate or U+0000 would not be stored as given)';

const TEXT_FIELDS = new Set<string>(['title', 'description', 'url', ...INFO_FIELDS]);
const MAX_LOCALES = 50;

function fail(id: unknown, field: string, why: string): never {
  const who = typeof id === 'string' ? `requirement "${id}"` : 'a requirement';
  throw new ConsentConfigError('invalid_requirement', `${who}: field "${field}" ${why}`, { extensions: { field } });
}

function text(id: unknown, field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim().length === 0 || !atMostCharacters(value, max)) {
    fail(id, field, `must be a non-empty string of at most ${String(max)} characters`);
  }
  // Stored as given, hashed and sealed: text the database would change would fail its seal.
  if (!storableText(value)) fail(id, field, UNSTORABLE);
  return value;
}

/** A link: an absolute http(s) URL, or a path that stays on the site; null when absent. */
export function link(id: unknown, field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > 2000) fail(id, field, 'must be a string');
  if (!storableText(value)) fail(id, field, UNSTORABLE);
  if (isLocalPath(value)) return value;
  // Browsers drop or rewrite these while parsing: the link would not go where the text says.
  if (!value.startsWith('/') && !hasRewrittenCharacter(value)) {
    try {
      const parsed = new URL(value);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value;
    } catch {
      // fall through to the error below
    }
  }
  return fail(id, field, 'must be an absolute http(s) URL or a local path (one leading "/", no backslash, control character or whitespace)');
}

function list(id: unknown, field: string, value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || value.length > 50) fail(id, field, 'must be a non-empty array of at most 50 strings');
  return value.map((item, i) => text(id, `${field}/${String(i)}`, item, 1000));
}

function controller(id: unknown, field: string, value: unknown): LocalizedText['controller'] {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) fail(id, field, 'must be { name, contact? }');
  for (const key of Object.keys(value)) if (key !== 'name' && key !== 'contact') fail(id, `${field}.${key}`, 'is not a controller field (name, contact)');
  const { name, contact } = value as Record<string, unknown>;
  return { name: text(id, `${field}.name`, name, 200), contact: contact === undefined || contact === null ? null : text(id, `${field}.contact`, contact, 500) };
}

type Info = Pick<LocalizedText, (typeof INFO_FIELDS)[number]>;

/** The Art. 13 fields given in `source` (undefined for those it leaves out). */
function info(id: unknown, prefix: string, source: Record<string, unknown>): Partial<Info> {
  const out: Partial<Info> = {};
  const at = (field: string) => `${prefix}${field}`;
  if (source.controller !== undefined) out.controller = controller(id, at('controller'), source.controller);
  for (const field of ['purposes', 'dataCategories', 'recipients'] as const) {
    if (source[field] !== undefined) out[field] = list(id, at(field), source[field]);
  }
  for (const field of ['retention', 'transfers'] as const) {
    if (source[field] !== undefined) out[field] = source[field] === null ? null : text(id, at(field), source[field], 2000);
  }
  return out;
}

const NO_INFO: Info = { controller: null, purposes: null, dataCategories: null, recipients: null, retention: null, transfers: null };

/** The resolved texts of a definition: the default locale first, every field present in each. */
export interface ResolvedTexts {
  defaultLocale: string;
  texts: Record<string, LocalizedText>;
}

/**
 * Validates `texts`, `defaultLocale`, the flat `title`/`description`/`url` and the Art. 13
 * fields of a definition, and completes every locale: the top-level Art. 13 fields apply to
 * each locale that does not give its own. The flat fields are the default locale's text
 * (`en` unless `defaultLocale` says otherwise); with `texts`, the default locale is its first
 * key unless `defaultLocale` names another.
 * @throws ConsentConfigError `invalid_requirement` naming the field at fault.
 */
export function resolveTexts(def: RequirementDefinition): ResolvedTexts {
  const id = def.id;
  const shared = { ...NO_INFO, ...info(id, '', def as unknown as Record<string, unknown>) };
  const given = def.texts;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given) || Object.keys(given).length === 0)) {
    fail(id, 'texts', 'must be an object of locale → { title, description, url? }');
  }
  const locales = given ? Object.keys(given) : [];
  if (locales.length > MAX_LOCALES) fail(id, 'texts', `may hold at most ${String(MAX_LOCALES)} locales`);
  if (def.defaultLocale !== undefined && !isLocaleTag(def.defaultLocale)) fail(id, 'defaultLocale', 'must be a language tag such as "en" or "de-CH"');
  const defaultLocale = def.defaultLocale ?? locales[0] ?? 'en';
  const flat = def.title !== undefined || def.description !== undefined || def.url !== undefined;
  const texts: Record<string, LocalizedText> = {};
  if (!flat && given && !locales.includes(defaultLocale)) fail(id, 'defaultLocale', 'must be one of the locales of "texts" (or give the flat title and description)');
  if (flat || !given) {
    // Named by the flat field that was given (a top-level url alone duplicates it too).
    const field = def.title !== undefined ? 'title' : def.description !== undefined ? 'description' : 'url';
    if (given && locales.includes(defaultLocale)) fail(id, field, `duplicates texts.${defaultLocale}: give the text of a locale once`);
    texts[defaultLocale] = {
      title: text(id, 'title', def.title, 200),
      description: text(id, 'description', def.description, 5000),
      url: link(id, 'url', def.url),
      ...shared,
    };
  }
  for (const locale of locales) {
    if (!isLocaleTag(locale)) fail(id, `texts.${String(locale)}`, 'is not a language tag such as "en" or "de-CH"');
    if (locales.some((other) => other !== locale && other.toLowerCase() === locale.toLowerCase())) fail(id, `texts.${locale}`, 'is given twice');
    const entry = (given as Record<string, unknown>)[locale];
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(id, `texts.${locale}`, 'must be { title, description, url? }');
    const source = entry as Record<string, unknown>;
    for (const key of Object.keys(source)) if (!TEXT_FIELDS.has(key)) fail(id, `texts.${locale}.${key}`, 'is not a text field');
    texts[locale] = {
      title: text(id, `texts.${locale}.title`, source.title, 200),
      description: text(id, `texts.${locale}.description`, source.description, 5000),
      url: link(id, `texts.${locale}.url`, source.url),
      ...shared,
      ...info(id, `texts.${locale}.`, source),
    };
  }
  // The default locale leads, as every listing shows it first.
  const ordered: Record<string, LocalizedText> = { [defaultLocale]: texts[defaultLocale] as LocalizedText };
  for (const [locale, value] of Object.entries(texts)) ordered[locale] = value;
  return { defaultLocale, texts: ordered };
}

/** Whether a version's texts say more than the first release's flat English text could. */
export function isRich(resolved: ResolvedTexts): boolean {
  const locales = Object.keys(resolved.texts);
  if (resolved.defaultLocale !== 'en' || locales.length !== 1) return true;
  const only = resolved.texts.en as LocalizedText;
  return INFO_FIELDS.some((field) => only[field] !== null);
}
