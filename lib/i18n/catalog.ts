import { didYouMean } from '../did-you-mean';
import { ConsentConfigError } from '../errors';
import { DE } from './messages-de';
import { EN, type MessageKey, type Messages } from './messages-en';
import { FR } from './messages-fr';
import { isLocaleTag } from './negotiate';

export type { MessageKey, Messages } from './messages-en';

/**
 * The `messages` option: the library's words by locale. A built-in language (`en`, `de`, `fr`)
 * takes the keys given over its own; another locale adds a language, taking English for any key
 * it leaves out.
 * @example { de: { 'form.legend': 'Ihre Zustimmung' }, es: { 'form.legend': 'Su consentimiento', … } }
 */
export type MessagesOption = Record<string, Partial<Messages>>;

const BUILT_IN: Readonly<Record<string, Messages>> = { en: EN, de: DE, fr: FR };
const KEYS = Object.keys(EN);

/** The values a message's `{name}` placeholders take. */
export type MessageValues = Record<string, string | number>;

/**
 * One catalog of the library's words: the built-in languages with the host's additions and
 * overrides. Language `en` is the fallback of every lookup.
 */
export class Catalog {
  private readonly byLocale: ReadonlyMap<string, Messages>;
  /** Every locale the catalog holds, English first. */
  readonly locales: readonly string[];

  constructor(option: MessagesOption = {}) {
    const merged = new Map<string, Messages>(Object.entries(BUILT_IN));
    for (const [locale, words] of Object.entries(option)) {
      const base = merged.get(locale) ?? EN;
      merged.set(locale, { ...base, ...words });
    }
    this.byLocale = merged;
    this.locales = [...merged.keys()];
  }

  /** The words of `locale` (exactly as the catalog holds it), or English. */
  words(locale: string): Messages {
    return this.byLocale.get(locale) ?? EN;
  }

  /** One message in `locale`, its `{name}` placeholders replaced by `values`. */
  text(locale: string, key: MessageKey, values: MessageValues = {}): string {
    return fill(this.words(locale)[key], values);
  }

  /** Titles each in the quotation marks of `locale`, separated by commas. */
  quoted(locale: string, titles: readonly string[]): string {
    return titles.map((text) => this.text(locale, 'quote', { text })).join(', ');
  }
}

/** `template` with each `{name}` replaced by `values[name]` (unknown names are left as they are). */
export function fill(template: string, values: MessageValues): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
}

function bad(option: string, why: string): never {
  throw new ConsentConfigError('invalid_option', `option "${option}" ${why}`, { extensions: { option } });
}

/**
 * Resolves the `messages` option into the catalog.
 * @throws ConsentConfigError `invalid_option` for a malformed locale, an unknown key (with a
 *   "did you mean") or a value that is not a non-empty string.
 */
export function parseMessages(value: unknown): Catalog {
  if (value === undefined) return new Catalog();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('messages', 'must be an object of locale → { key: text }');
  for (const [locale, words] of Object.entries(value)) {
    if (!isLocaleTag(locale)) bad(`messages.${String(locale)}`, 'is not a language tag such as "de" or "pt-BR"');
    if (words === null || typeof words !== 'object' || Array.isArray(words)) bad(`messages.${locale}`, 'must be an object of key → text');
    for (const [key, text] of Object.entries(words as Record<string, unknown>)) {
      if (!KEYS.includes(key)) {
        const hint = didYouMean(key, KEYS);
        bad(`messages.${locale}.${key}`, `is not a message key${hint ? `; did you mean "${hint}"?` : ''}`);
      }
      if (typeof text !== 'string' || text.trim() === '') bad(`messages.${locale}.${key}`, 'must be a non-empty string');
    }
  }
  return new Catalog(value as MessagesOption);
}
