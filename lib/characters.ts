/**
 * Whether `text` has at most `max` characters: Unicode code points, as PostgreSQL's `varchar(n)`
 * and JSON Schema's `maxLength` count them (a surrogate pair is one). Counted one by one only
 * when the UTF-16 units exceed `max`. Pure.
 */
export function atMostCharacters(text: string, max: number): boolean {
  if (text.length <= max) return true;
  if (text.length > 2 * max) return false;
  let characters = 0;
  for (const _ of text) characters += 1;
  return characters <= max;
}

/**
 * Whether a string survives storage unchanged on every supported database: a lone surrogate
 * becomes U+FFFD on its way to a UTF-8 database, and PostgreSQL refuses U+0000 in text. Pure.
 */
export function storableText(value: string): boolean {
  return !value.includes('\u0000') && value.isWellFormed();
}
