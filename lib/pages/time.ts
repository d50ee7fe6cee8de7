import { html, type SafeHtml } from './html';

const LONG: Intl.DateTimeFormatOptions = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };
const SHORT: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' };
const formats = new Map<string, Intl.DateTimeFormat>();

/** A formatter per language and style, made once (English as written in Britain: day before month). */
function format(style: 'short' | 'long', lang: string): Intl.DateTimeFormat {
  const key = `${style} ${lang}`;
  let found = formats.get(key);
  if (found === undefined) {
    const locale = lang === 'en' ? 'en-GB' : lang;
    try {
      found = new Intl.DateTimeFormat(locale, style === 'long' ? LONG : SHORT);
    } catch {
      found = new Intl.DateTimeFormat('en-GB', style === 'long' ? LONG : SHORT);
    }
    formats.set(key, found);
  }
  return found;
}

/**
 * A `<time>` element: the ISO value in `datetime` for programs, and for people the date and
 * time in the server's time zone, named, in the page's language `lang` (`23 Nov 2026, 12:00:05
 * UTC`; `long`: with the weekday and the month in full, to the minute).
 */
export function timeElement(iso: string, style: 'short' | 'long' = 'short', lang = 'en'): SafeHtml {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return html`${iso}`;
  return html`<time datetime="${iso}">${format(style, lang).format(date)}</time>`;
}
