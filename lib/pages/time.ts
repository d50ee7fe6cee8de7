import { html, type SafeHtml } from './html';

const LONG = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
const SHORT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });

/**
 * A `<time>` element: the ISO value in `datetime` for programs, and for people the date and
 * time in the server's time zone, named (`23 Nov 2026, 12:00:05 UTC`; `long`: with the weekday
 * and the month in full, to the minute).
 */
export function timeElement(iso: string, style: 'short' | 'long' = 'short'): SafeHtml {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return html`${iso}`;
  return html`<time datetime="${iso}">${(style === 'long' ? LONG : SHORT).format(date)}</time>`;
}
