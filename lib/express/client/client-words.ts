import type { Catalog, MessageKey } from '../../i18n/catalog';
import { CLIENT_SCRIPT } from './client-script';

// The catalog entries the client shows: its own, the lawful bases, the Art. 13 labels, the link
// and its quotation marks.
const CLIENT_KEYS = /^(client|basis|info)\.|^link\.more$|^quote$/;

/**
 * The client with the library's words of every catalog locale in it: the script picks the
 * locale the requirements listing answers in, as JSON (a script served as a file, never inline).
 */
export function clientScript(catalog: Catalog): string {
  const words: Record<string, Record<string, string>> = {};
  for (const locale of catalog.locales) {
    const all = catalog.words(locale);
    words[locale] = Object.fromEntries(Object.entries(all).filter(([key]) => CLIENT_KEYS.test(key as MessageKey)));
  }
  return CLIENT_SCRIPT.replace('__WORDS__', () => JSON.stringify(words));
}
