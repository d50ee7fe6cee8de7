import { fill, type Messages } from '../i18n/catalog';
import type { LocalizedText } from '../types';
import { html, type SafeHtml } from './html';

/**
 * ` lang="<inner>"` for an element in language `inner` inside one in `outer`, or nothing when
 * `outer` is that language or a variant of it (`de` inside `de-AT`; tags compare without regard
 * to case).
 */
export function langMark(inner: string, outer: string): SafeHtml | null {
  const a = inner.toLowerCase();
  const b = outer.toLowerCase();
  return a === b || b.startsWith(`${a}-`) ? null : html` lang="${inner}"`;
}

/**
 * What GDPR Art. 13 asks to tell a person, as a description list: only the fields the text
 * gives, each under its label in the words' language (`mark`: its `lang`, when the text's
 * differs); nothing when it gives none.
 */
export function informationList(text: LocalizedText, words: Messages, mark: SafeHtml | null = null): SafeHtml | null {
  const items: SafeHtml[] = [];
  const item = (label: string, value: SafeHtml | string) => items.push(html`<dt${mark}>${label}</dt><dd>${value}</dd>`);
  const list = (values: string[]) => (values.length === 1 ? (values[0] as string) : html`<ul>${values.map((v) => html`<li>${v}</li>`)}</ul>`);
  if (text.controller) item(words['info.controller'], text.controller.contact ? `${text.controller.name} (${text.controller.contact})` : text.controller.name);
  if (text.purposes) item(words['info.purposes'], list(text.purposes));
  if (text.dataCategories) item(words['info.dataCategories'], list(text.dataCategories));
  if (text.recipients) item(words['info.recipients'], list(text.recipients));
  if (text.retention) item(words['info.retention'], text.retention);
  if (text.transfers) item(words['info.transfers'], text.transfers);
  return items.length === 0 ? null : html`<dl class="ec-info">${items}</dl>`;
}

/**
 * `template` with its `{title}` filled in; with `mark` (the title's `lang`, in words of another
 * language) the first one is a span that says so.
 */
export function withTitle(template: string, title: string, mark: SafeHtml | null): SafeHtml | string {
  const at = template.indexOf('{title}');
  if (mark === null || at < 0) return fill(template, { title });
  return html`${fill(template.slice(0, at), { title })}<span${mark}>${title}</span>${fill(template.slice(at + '{title}'.length), { title })}`;
}

/**
 * A "more about" link in the words' language (`mark`: its `lang`, when the text's differs; then
 * `titleMark` marks the title in it, in the text's).
 */
export function moreLink(text: LocalizedText, words: Messages, mark: SafeHtml | null = null, titleMark: SafeHtml | null = null): SafeHtml | null {
  return text.url ? html`<p${mark}><a href="${text.url}">${withTitle(fill(words['link.more'], { title: fill(words.quote, { text: '{title}' }) }), text.title, titleMark)}</a></p>` : null;
}
