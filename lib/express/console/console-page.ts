import { html, type SafeHtml } from '../../pages/html';
import type { PageContent } from '../../pages/document';
import type { Messages } from '../../i18n/catalog';

/** A console page in `lang`: its navigation, its heading, its content. */
export function consolePage(title: string, body: SafeHtml, words: Messages, lang: string): PageContent {
  return {
    title: `${title} · ${words['console.name']}`,
    lang,
    homeText: words['page.home'],
    body: html`<nav class="ec-nav" aria-label="${words['console.name']}"><ul><li><a href="./">${words['console.nav.overview']}</a></li><li><a href="./subject">${words['console.subjectLookup']}</a></li></ul></nav>
<h1>${title}</h1>
${body}`,
  };
}

/**
 * The class of a cell of free text (an id, an actor, a note): it may break anywhere, so that a
 * long word in it never widens the table. Other cells break between words only ("withdraw"
 * stays whole), and the free ones give up their width first.
 */
export const FREE = 'ec-free';

/** A table cell labelled with its column, for the stacked layout of narrow screens. */
export function cell(label: string, content: unknown, cls?: string): SafeHtml {
  return html`<td data-label="${label}"${cls ? html` class="${cls}"` : null}>${content}</td>`;
}

/**
 * A table too wide for a narrow column of a host's layout (one wider than a phone's, where tables
 * are stacked): it scrolls sideways in its own box, named by the heading `labelledBy` and
 * reachable by keyboard, instead of squeezing its words or widening the page.
 */
export function wide(labelledBy: string, table: SafeHtml): SafeHtml {
  return html`<div class="ec-wide" role="region" aria-labelledby="${labelledBy}" tabindex="0">${table}</div>`;
}

/** A table head row of column headers; those at `numeric` head columns of numbers and line up with them (right). */
export function headRow(labels: string[], numeric: readonly number[] = []): SafeHtml {
  return html`<thead><tr>${labels.map((l, i) => (numeric.includes(i) ? html`<th scope="col" class="ec-n">${l}</th>` : html`<th scope="col">${l}</th>`))}</tr></thead>`;
}

/**
 * A state, action or source in the console's words, marked with its code (`data-code`) for
 * programs and tests; a code the catalog lacks is shown as it is.
 */
export function codeWords(w: Messages, group: 'state' | 'action' | 'source', code: string): SafeHtml {
  return html`<span data-code="${code}">${wordFor(w, `console.${group}.${code}`, code)}</span>`;
}

/** The catalog's word under a key built from a code, or `fallback` when it has none. */
export function wordFor(w: Messages, key: string, fallback: string): string {
  return (w as Record<string, string | undefined>)[key] ?? fallback;
}
