/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation of JSON values: object members
 * sorted by UTF-16 code units, no white space, numbers and strings as ECMAScript prints them.
 * Pure; throws on values JSON cannot represent (undefined, functions, non-finite numbers).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const entries = Object.keys(value)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
      return `{${entries.join(',')}}`;
    }
    case 'bigint':
    case 'symbol':
    case 'function':
    case 'undefined':
      break;
  }
  throw new TypeError(`canonicalJson: cannot serialise a ${typeof value}`);
}
