const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). An override left open
// reverses whatever follows it, past the end of the escaped text ("Trojan Source"); a numeric
// reference would be decoded back into the character. The marks U+200E, U+200F and U+061C open
// nothing (they only act as one strong character) and right-to-left text needs them, so they
// pass.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

const codePoint = (c: string): string => `[U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}]`;

/**
 * Escapes text for HTML content and quoted attribute values, the one escaping function of
 * every page and fragment the library renders. Bidirectional control characters are shown as
 * their code point (`[U+202E]`) instead of being passed on: text from a requirement, a note or
 * a subject id can then neither reorder the page around it nor disguise itself.
 */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => ENTITIES[c] as string)
    .replace(BIDI_CONTROLS, codePoint);
}
