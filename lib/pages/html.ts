const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). An override left open
// reverses whatever follows it, past the end of the escaped text ("Trojan Source"); a numeric
// reference would be decoded back into the character. The marks U+200E, U+200F and U+061C open
// nothing (they only act as one strong character) and right-to-left text needs them, so they
// pass.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

const codePoint = (c: string): string => `[U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}]`;

function escapeText(value: unknown): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => ENTITIES[c] as string)
    .replace(BIDI_CONTROLS, codePoint);
}

/**
 * Markup that is safe to send as it is: what `html` builds, or what `trustedHtml` marks. Any
 * other value placed in an `html` template is escaped.
 */
export class SafeHtml {
  /** @param value The markup. Build it with `html`; the constructor trusts it as given. */
  constructor(readonly value: string) {}

  /** The markup, so a `SafeHtml` can be sent or concatenated like a string. */
  toString(): string {
    return this.value;
  }
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeText(value);
}

/**
 * The template tag of every page and fragment the library renders. Each interpolated value is
 * escaped for HTML content and quoted attribute values unless it is `SafeHtml` (a nested `html`
 * template, or `trustedHtml`); arrays are joined; `null`, `undefined` and `false` render
 * nothing. Bidirectional control characters are shown as their code point (`[U+202E]`) rather
 * than passed on: text from a requirement, a note or a subject id can then neither reorder the
 * page around it nor disguise itself.
 * @example
 * html`<p title="${note}">${title}</p>`.value
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] as string;
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] as string);
  });
  return new SafeHtml(out);
}

/**
 * Marks markup your own code produced (or the documented escaped output of `formFields()`) as
 * safe, to place it in an `html` template unescaped. Never pass it text from a request.
 */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
