import type { Request } from 'express';
import { html, type SafeHtml } from './html';

// Visitors are asked only what applies to browsing: the newsletter, the digest (double opt-in)
// and partner offers need an address, and are asked at sign-up and on the preferences page.
const consentClient = html`<script src="/consent/client.js" data-requirements="analytics" defer></script>`;

/** Options of a page. */
export interface PageOptions {
  /** A script of the example's own, served from /static. */
  script?: string;
  /** Markup for `<head>` (the library's style on the library's own pages). */
  head?: SafeHtml;
  /** Loads the library's browser client (banner and choices) for visitors. */
  consentClient?: boolean;
  /** The language of `body` (the library's pages say which); the example's own words are English. */
  lang?: string;
}

function navigation(req: Request): SafeHtml {
  if (!req.session.userId) {
    return html`<li><a href="/sign-up">Sign up</a></li><li><a href="/sign-in">Sign in</a></li>`;
  }
  return html`
    <li><a href="/preferences">Privacy preferences</a></li>
    <li><a href="/insights">Reading insights</a></li>
    <li><a href="/offers">Partner offers</a></li>
    <li><form method="post" action="/sign-out">
      <input type="hidden" name="_csrf" value="${req.session.csrf}">
      <button type="submit">Sign out</button>
    </form></li>`;
}

/** A complete HTML document: skip link, navigation, main landmark; readable without styles. */
export function page(req: Request, title: string, body: SafeHtml, options: PageOptions = {}): string {
  const lang = options.lang ?? 'en';
  // The example's own header is in English: marked so when the page is not.
  const english = lang === 'en' ? null : html` lang="en"`;
  return html`<!doctype html>
<html lang="${lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · Bookshelf</title>
  <link rel="stylesheet" href="/static/style.css">
  ${options.script ? html`<script src="/static/${options.script}" defer></script>` : null}
  ${options.head ?? null}
  ${options.consentClient ? consentClient : null}
</head>
<body>
  <a class="skip" href="#main"${english}>Skip to content</a>
  <header${english}>
    <p class="brand"><a href="/">Bookshelf</a> <span>an express-consent example</span></p>
    <nav aria-label="Main"><ul>${navigation(req)}</ul></nav>
  </header>
  <main id="main" tabindex="-1">
${body}
  </main>
</body>
</html>
`.value;
}
