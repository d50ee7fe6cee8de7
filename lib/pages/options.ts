import type { Request } from 'express';
import { hasRewrittenCharacter, isLocalPath } from '../local-url';
import { didYouMean } from '../did-you-mean';
import { ConsentConfigError } from '../errors';

/** What a host layout is told about the page it wraps. */
export interface PageInfo {
  /** The page's title, plain text (escape it, or place it in an `html` template). */
  title: string;
  /** The language of the library's words on the page. */
  lang: string;
  /**
   * Markup for the document's `<head>`: the library's style for its own content, and your
   * `stylesheet`. Leave it out to style the content entirely yourself.
   */
  head: string;
  /** The request being answered (to show who is signed in, for instance). */
  req: Request;
}

/** The link back to the site on the library's own pages. */
export interface HomeLink {
  /** A path starting with `/`, or an absolute http(s) URL. */
  href: string;
  /** Its text. */
  text: string;
}

/**
 * How the pages the library renders for people (the confirmation pages, the admin console) look.
 * @default { home: { href: '/', text: 'Back to the site' } }
 */
export interface PagesOptions {
  /**
   * Wraps each page's content (escaped HTML, from its `<h1>` on) in your own document: return
   * the complete HTML, with `page.head` in its `<head>`. The pages are then sent with a
   * Content-Security-Policy allowing resources of your own origin and the library's style, but
   * nothing from other origins except the `stylesheet`.
   */
  layout?: ((content: string, page: PageInfo) => string) | undefined;
  /** A stylesheet of yours (a path starting with `/`, or an absolute http(s) URL), loaded after the library's style. */
  stylesheet?: string | undefined;
  /** The link back to your site, in the default layout's header; `false` shows none. */
  home?: HomeLink | false | undefined;
  /**
   * Where people change their choices on your site (a path starting with `/`, or an absolute
   * http(s) URL): the pages that close a confirmation link to it. @default none
   */
  settings?: string | undefined;
}

/** Page options after parsing. */
export interface ResolvedPages {
  layout: ((content: string, page: PageInfo) => string) | null;
  stylesheet: string | null;
  home: HomeLink | null;
  /** The home link is the default one: its text follows the page's language. */
  homeIsDefault: boolean;
  /** Where people change their choices, or null. */
  settings: string | null;
}

/** The defaults of `pages`. */
export const PAGE_DEFAULTS = { home: { href: '/', text: 'Back to the site' } } as const;

const KEYS = ['layout', 'stylesheet', 'home', 'settings'];

function bad(option: string, why: string): never {
  throw new ConsentConfigError('invalid_option', `option "${option}" ${why}`, { extensions: { option } });
}

function link(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length > 2048) bad(option, 'must be a path starting with "/" or an absolute http(s) URL');
  if (isLocalPath(value)) return value;
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !hasRewrittenCharacter(value)) return value;
  } catch {
    // reported below
  }
  return bad(option, 'must be a path starting with "/" or an absolute http(s) URL');
}

function parseHome(value: unknown): HomeLink | null {
  if (value === undefined) return { ...PAGE_DEFAULTS.home };
  if (value === false) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('pages.home', 'must be { href, text } or false');
  for (const key of Object.keys(value)) {
    if (key !== 'href' && key !== 'text') bad(`pages.home.${key}`, 'is not a home option (href, text)');
  }
  const { href, text } = value as Record<string, unknown>;
  if (typeof text !== 'string' || text.trim() === '' || text.length > 200) bad('pages.home.text', 'must be a non-empty string of at most 200 characters');
  return { href: link(href, 'pages.home.href'), text };
}

/**
 * Resolves the `pages` option.
 * @throws ConsentConfigError `invalid_option` (with a "did you mean" for an unknown key).
 */
export function parsePages(value: unknown): ResolvedPages {
  if (value === undefined) return { layout: null, stylesheet: null, home: { ...PAGE_DEFAULTS.home }, homeIsDefault: true, settings: null };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('pages', 'must be { layout?, stylesheet?, home?, settings? }');
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) {
      const hint = didYouMean(key, KEYS);
      bad(`pages.${key}`, `is not a pages option (${KEYS.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
    }
  }
  const { layout, stylesheet, home, settings } = value as Record<string, unknown>;
  if (layout !== undefined && typeof layout !== 'function') bad('pages.layout', 'must be a function (content, page) => string');
  return {
    layout: (layout as ResolvedPages['layout'] | undefined) ?? null,
    stylesheet: stylesheet === undefined ? null : link(stylesheet, 'pages.stylesheet'),
    home: parseHome(home),
    homeIsDefault: home === undefined,
    settings: settings === undefined ? null : link(settings, 'pages.settings'),
  };
}
