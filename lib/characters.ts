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
