import { escapePointer } from './json-pointer';

/** An object or array being read, and where it is. */
interface Frame {
  /** The keys read so far (an object), or null (an array, or an object deeper than `KEYED_DEPTH`). */
  keys: Set<string> | null;
  pointer: string;
  /** An object: the next string is a key. */
  expectKey: boolean;
  /** An object: the key of the value being read. */
  key: string;
  /** An array: the index of the value being read. */
  index: number;
}

// Keys are compared down to this depth: every body the routes accept is shallower (`data` may
// nest 8 levels), so a deeper one is refused anyway, and its keys need no set each.
const KEYED_DEPTH = 12;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The JSON Pointer of the first member of `text` whose key its object already has (`{"a":1,"a":2}`
 * gives `/a`), or null when every object's keys are distinct. `JSON.parse` keeps the last of
 * such members without a word, so a body that says two things would count as the last one.
 * Keys are compared as decoded (`"a"` and `"\u0061"` are one key). Text that is not JSON may
 * give any answer: check it with `JSON.parse` too.
 */
export function duplicateKeyPointer(text: string): string | null {
  const stack: Frame[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      i += 1;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i += 2;
        else if (d === QUOTE) break;
        else i += 1;
      }
      i += 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = keyOf(text.slice(start, i));
        if (key === null) return null;
        if (top.keys.has(key)) return `${top.pointer}/${escapePointer(key)}`;
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      const pointer = parent === undefined ? '' : `${parent.pointer}/${parent.keys ? escapePointer(parent.key) : String(parent.index)}`;
      const keyed = c === 0x7b && stack.length < KEYED_DEPTH;
      stack.push({ keys: keyed ? new Set() : null, pointer, expectKey: true, key: '', index: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index += 1;
    }
    i += 1;
  }
  return null;
}

/** A key's decoded text, from its quoted form; null when it does not decode. */
function keyOf(quoted: string): string | null {
  if (!quoted.includes('\\')) return quoted.slice(1, -1);
  try {
    const key: unknown = JSON.parse(quoted);
    return typeof key === 'string' ? key : null;
  } catch {
    return null;
  }
}
