/** `key` as one reference token of a JSON Pointer (RFC 6901): `~` as `~0`, `/` as `~1`. */
export const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');
