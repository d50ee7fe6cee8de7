import type { Request } from 'express';
import { html, trustedHtml, type SafeHtml } from './html';
import type { ResolvedPages } from './options';
import { CONTENT_STYLE, DOCUMENT_STYLE, STYLE_SOURCES } from './style';

/** One page the library shows a person. */
export interface PageContent {
  title: string;
  /** The content, from its `<h1>` on. */
  body: SafeHtml;
  /** A reading width for short pages (the confirmation pages). */
  narrow?: boolean;
  /** The language of the library's words on the page. @default 'en' */
  lang?: string;
  /** The text of the link back to the site, in `lang`, when the host did not write its own. */
  homeText?: string;
}

/** A rendered page and the Content-Security-Policy it needs. */
export interface RenderedPage {
  html: string;
  csp: string;
}

const LANG = 'en';

/** The home link's text: the host's own, or the default one in the page's language. */
function homeText(pages: ResolvedPages, content: PageContent): string {
  const text = pages.home?.text ?? '';
  return pages.homeIsDefault && content.homeText !== undefined ? content.homeText : text;
}

function styleSources(pages: ResolvedPages): string {
  if (!pages.stylesheet) return STYLE_SOURCES;
  return `${STYLE_SOURCES} ${pages.stylesheet.startsWith('/') ? "'self'" : new URL(pages.stylesheet).origin}`;
}

/** The content's style and the host's stylesheet (the default layout adds its own style first). */
function head(pages: ResolvedPages): SafeHtml {
  return html`<style>${trustedHtml(CONTENT_STYLE)}</style>${pages.stylesheet ? html`\n<link rel="stylesheet" href="${pages.stylesheet}">` : null}`;
}

function defaultDocument(pages: ResolvedPages, content: PageContent): string {
  return html`<!doctype html>
<html lang="${content.lang ?? LANG}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${pages.stylesheet ? null : html`<meta name="color-scheme" content="light dark">\n`}<title>${content.title}</title>
<style>${trustedHtml(DOCUMENT_STYLE)}</style>
${head(pages)}
</head>
<body${content.narrow ? html` class="ec-narrow"` : null}>
${pages.home ? html`<header class="ec-header"><p><a href="${pages.home.href}">${homeText(pages, content)}</a></p></header>` : null}
<main class="ec-main ec-content">
${content.body}
</main>
</body>
</html>
`.value;
}

/**
 * Renders a page in the host's `layout`, or in the default document (header with the link back
 * to the site, one `<main>`). The default document is light or dark as the person prefers,
 * unless the host gave a `stylesheet` (written, maybe, for light pages only): then it is light
 * unless that stylesheet declares `color-scheme`. The CSP of the default document allows
 * nothing but the library's style and the host's stylesheet; a host layout may also load
 * resources of its own origin.
 */
export function renderPage(pages: ResolvedPages, req: Request, content: PageContent): RenderedPage {
  const tail = "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
  if (!pages.layout) {
    return { html: defaultDocument(pages, content), csp: `default-src 'none'; style-src ${styleSources(pages)}; img-src 'self'; ${tail}` };
  }
  // Marked with its language, so that a layout written for another one still reads it right.
  const wrapped = html`<div class="ec-content" lang="${content.lang ?? LANG}">${content.body}</div>`.value;
  return {
    html: pages.layout(wrapped, { title: content.title, lang: content.lang ?? LANG, head: head(pages).value, req }),
    csp: `default-src 'self'; style-src 'self' ${styleSources(pages)}; object-src 'none'; ${tail}`,
  };
}
