/** A `Content-Type` header, parsed (RFC 9110 §8.3): lower-case type and parameter names. */
export interface MediaType {
  /** `type/subtype`, lower case. */
  type: string;
  /** Parameter values, unquoted, by lower-case name. */
  parameters: Map<string, string>;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
// qdtext and quoted-pair of RFC 9110 §5.6.4 (header values reach Node as latin1, one byte a char).
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const PARAMETER = `(${TOKEN})=(${TOKEN}|${QUOTED})`;
// Each run of whitespace has one place to go (before a ";" or before a parameter), so a failing
// match cannot backtrack through exponentially many splits of a long header.
const WHOLE = new RegExp(`^[ \\t]*(${TOKEN}/${TOKEN})((?:[ \\t]*;(?:[ \\t]*${PARAMETER})?)*)[ \\t]*$`);
const EACH_PARAMETER = new RegExp(`;[ \\t]*${PARAMETER}`, 'g');

/**
 * Parses a `Content-Type` header strictly; null when it does not follow the grammar or names a
 * parameter twice. Parsers differ on malformed headers (which of two `charset`s wins, what a
 * stray `;` means), so such a header is refused rather than read one way here and another way
 * by the body parser.
 */
export function parseMediaType(header: string | undefined): MediaType | null {
  if (header === undefined) return null;
  const match = WHOLE.exec(header);
  if (!match) return null;
  const parameters = new Map<string, string>();
  for (const [, name = '', raw = ''] of (match[2] ?? '').matchAll(EACH_PARAMETER)) {
    const key = name.toLowerCase();
    if (parameters.has(key)) return null;
    parameters.set(key, raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  return { type: (match[1] as string).toLowerCase(), parameters };
}
