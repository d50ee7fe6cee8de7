import type { Request } from 'express';
import { ConsentError } from '../errors';
import type { Catalog, Messages } from '../i18n/catalog';
import { acceptedRanges, isLocaleTag, lookup } from '../i18n/negotiate';

/**
 * The language ranges a request asks for, most preferred first: `?lang=` (when the route reads
 * it), then `Accept-Language` by q-value. A malformed `lang` is a 400 `invalid_body`: the
 * client chose a language and would silently get another.
 */
export function requestRanges(req: Request, readQuery = true): string[] {
  const header = acceptedRanges(req.get('accept-language'));
  if (!readQuery) return header;
  const lang = (req.query as Record<string, unknown>).lang;
  if (lang === undefined) return header;
  if (!isLocaleTag(lang)) {
    throw new ConsentError('invalid_argument', 'lang must be a language tag such as "de" or "pt-BR"', {
      extensions: { errors: [{ pointer: '/lang', detail: 'must be a language tag such as "de" or "pt-BR"' }] },
    });
  }
  return [lang, ...header];
}

/** The request's `?lang=` when it is a well-formed language tag, else null. */
export function queryLocale(req: Request): string | null {
  const lang = (req.query as Record<string, unknown>).lang;
  return isLocaleTag(lang) ? lang : null;
}

/** `requestRanges` for pages and errors: a malformed `lang` is left out rather than refused. */
export function lenientRanges(req: Request): string[] {
  const header = acceptedRanges(req.get('accept-language'));
  const lang = queryLocale(req);
  return lang === null ? header : [lang, ...header];
}

/** The library's words for a page: the catalog's best match for the request, else English. */
export function pageWords(req: Request, catalog: Catalog): { lang: string; words: Messages } {
  const lang = lookup(lenientRanges(req), catalog.locales) ?? 'en';
  return { lang, words: catalog.words(lang) };
}
