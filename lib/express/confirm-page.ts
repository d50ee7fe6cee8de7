import type { TokenPreview } from '../core/confirm';
import { fill, type Messages } from '../i18n/catalog';
import { html, type SafeHtml } from '../pages/html';
import type { PageContent } from '../pages/document';
import { informationList, langMark, moreLink } from '../pages/information';
import { timeElement } from '../pages/time';
import type { LocalizedText } from '../types';

/** The library's words of a page and the language they are in. */
export interface PageWords {
  lang: string;
  words: Messages;
}

/** A requirement's text as a page shows it: in `locale`, marked when it differs from the page's. */
export interface ShownText {
  text: LocalizedText;
  locale: string;
}

function about(shown: ShownText, page: PageWords): SafeHtml {
  const { text } = shown;
  // The text in its language; the page's words inside it (labels, the link) in the page's.
  const words = langMark(page.lang, shown.locale);
  const own = langMark(shown.locale, page.lang);
  return html`<div${own}><h2>${text.title}</h2>
<p>${text.description}</p>
${informationList(text, page.words, words)}
${moreLink(text, page.words, words, words === null ? null : own)}</div>`;
}

/** `template` split at `{time}`, each part escaped, the time element between. */
function withTime(template: string, time: SafeHtml): SafeHtml {
  const [before = '', after = ''] = template.split('{time}');
  return html`${before}${time}${after}`;
}

/**
 * What a confirmation link shows: the requirement and a button. Only the button's POST (to
 * `action`, the page's own path) confirms; opening the page changes nothing.
 */
export function previewPage(preview: TokenPreview, shown: ShownText, action: string, page: PageWords): PageContent {
  const { words } = page;
  return {
    title: fill(words['confirm.title'], { title: shown.text.title }),
    lang: page.lang,
    homeText: page.words['page.home'],
    narrow: true,
    body: html`<h1>${words['confirm.heading']}</h1>
<p>${words['confirm.intro']}</p>
${about(shown, page)}
<form method="post" action="${action}">
<p><button type="submit">${words['confirm.button']}</button></p>
</form>
<p class="ec-note">${withTime(words['confirm.until'], timeElement(preview.expiresAt, 'long', page.lang))}</p>`,
  };
}

/** That the person can change their mind, with a link to where when the host named it (`pages.settings`). */
function changeNote(page: PageWords, settings: string | null): SafeHtml {
  const { words } = page;
  return html`<p>${words['confirmed.change']}</p>${settings === null ? null : html`
<p><a href="${settings}">${words['confirmed.settings']}</a></p>`}`;
}

/** The answer to the confirmation form; `settings`: where people change their choices, or null. */
export function confirmedPage(shown: ShownText, page: PageWords, settings: string | null): PageContent {
  const { words } = page;
  return {
    title: words['confirmed.title'],
    lang: page.lang,
    homeText: page.words['page.home'],
    narrow: true,
    body: html`<h1>${words['confirmed.heading']}</h1>
<p class="ec-status" role="status">${fill(words['confirmed.status'], { title: shown.text.title })}</p>
${changeNote(page, settings)}`,
  };
}

/** A link opened again after its confirmation went through; `settings` as for `confirmedPage`. */
export function alreadyConfirmedPage(titles: readonly string[], page: PageWords, settings: string | null): PageContent {
  const { words } = page;
  return {
    title: words['already.title'],
    lang: page.lang,
    homeText: page.words['page.home'],
    narrow: true,
    body: html`<h1>${words['already.heading']}</h1>
<p class="ec-status" role="status">${words['already.status']}</p>
<p>${words['already.list']}</p>
<ul>${titles.map((title) => html`<li>${title}</li>`)}</ul>
${changeNote(page, settings)}`,
  };
}

const FAILURES = ['token_invalid', 'token_expired', 'version_mismatch', 'store_unavailable'] as const;

/**
 * A link that cannot be used: what happened and what the person can do, in plain words, with a
 * link to where they can ask again (`settings`, as for `confirmedPage`) when the words say to.
 */
export function failedPage(code: string, page: PageWords, settings: string | null = null): PageContent {
  const known = (FAILURES as readonly string[]).includes(code) ? (code as (typeof FAILURES)[number]) : 'other';
  const title = page.words[`failed.${known}.title`];
  const text = page.words[`failed.${known}.text`];
  // A store that failed asks for the same link again later, not for a new answer.
  const askAgain = settings !== null && known !== 'store_unavailable' ? html`\n<p><a href="${settings}">${page.words['confirmed.settings']}</a></p>` : null;
  return { title, lang: page.lang,
    homeText: page.words['page.home'], narrow: true, body: html`<h1>${title}</h1>\n<p class="ec-alert" role="alert">${text}</p>${askAgain}` };
}
