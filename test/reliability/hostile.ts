import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { expect } from 'chai';

/** The status each documented error code may carry (SPEC §5); internal_error is never acceptable here. */
export const DOCUMENTED: Record<string, number[]> = {
  invalid_body: [400],
  no_subject: [401],
  forbidden: [403],
  consent_required: [403],
  unknown_requirement: [404, 422],
  token_invalid: [404],
  version_mismatch: [409],
  token_expired: [410],
  payload_too_large: [413],
  unsupported_media_type: [415],
  mandatory_missing: [422],
  store_unavailable: [503],
};

/** What a hostile response may never contain: stack frames, SQL, driver messages. */
const LEAKS = /\bat [\w.<>]+ \(|node_modules|SQLITE_|sqlite3|syntax error|violates|relation "|SELECT |INSERT INTO|stack/i;

/** A response to hostile input: no 5xx, errors as documented problems, nothing leaked. */
export function expectSafeAnswer(res: { status: number; headers: Record<string, string>; text: string; body: unknown }, what: string): void {
  expect(res.status, `${what} → ${res.text}`).to.be.below(500);
  if (res.status < 400) return;
  expect(res.headers['content-type'], what).to.match(/^application\/problem\+json/);
  const body = res.body as { code?: string; status?: number };
  expect(DOCUMENTED, `${what} → ${res.text}`).to.have.property(String(body.code));
  expect(DOCUMENTED[String(body.code)], what).to.include(res.status);
  expect(body.status).to.equal(res.status);
  expect(res.text, what).not.to.match(LEAKS);
}

const LOOKALIKES = [
  'analytics', '\u0430nalytics', 'ANALYTICS', 'analytics ', ' analytics', 'analytic\u0455', 'ads\u200b', 'ad\u0455',
  "analytics' OR '1'='1", 'ads; DROP TABLE consent_events; --', '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
  '../ads', 'ads/../analytics', '..', '.', '%00', 'analytics\u0000', '__proto__', 'constructor', 'toString', 'a'.repeat(65), '1e3',
];

/** Requirement ids: real ones, lookalikes, injections, and anything at all. */
export const anyId = fc.oneof(fc.constantFrom(...LOOKALIKES), fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 20 }));

/** A path segment for an id: usually percent-encoded, sometimes raw broken escapes. */
export const anySegment = fc.oneof(
  { weight: 5, arbitrary: anyId.map((id) => encodeURIComponent(id) || 'x') },
  { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%C0%AF', '%2e%2e', 'ads%2F..%2Fanalytics') },
);

/** Values of any JSON type, including those a schema does not expect. */
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('granted', 'denied', 'GRANTED', '', null, 0, -1, 1.5, 1e308, true, []));

const hostileString = fc.oneof(
  fc.string({ maxLength: 600 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.constantFrom("'); DELETE FROM consent_events; --", '<b onmouseover=alert(1)>x</b>', '${7*7}', '\u202e\u0000\uffff', 'ＳＥＬＥＣＴ'),
);

const protoKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'a');

function nested(depth: number, leaf: string): string {
  return `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
}

/** Raw request bodies: bytes, wrong types, huge strings, deep nesting, prototype keys, near-valid shapes. */
export const anyBody: fc.Arbitrary<Buffer | string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  anyJson.map((v) => JSON.stringify(v)),
  fc.record({ decision: anyJson, version: anyJson, note: fc.oneof(hostileString, anyJson), data: anyJson }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ decisions: fc.dictionary(anyId, anyJson, { maxKeys: 5 }), note: hostileString }, { requiredKeys: ['decisions'] }).map((v) => JSON.stringify(v)),
  fc.tuple(protoKeys, protoKeys).map(([a, b]) => `{"decision":"granted","data":{"${a}":{"${b}":{"polluted":1}}}}`),
  fc.tuple(protoKeys, fc.constantFrom('decision', 'decisions')).map(([a, b]) => `{"${a}":{"polluted":1},"${b}":"granted"}`),
  fc.integer({ min: 1, max: 3000 }).map((depth) => `{"decision":"granted","data":${nested(depth, '1')}}`),
  fc.integer({ min: 400, max: 40_000 }).map((n) => JSON.stringify({ decision: 'granted', note: 'x'.repeat(n) })),
);

/** Content types clients and browsers send. */
export const anyContentType = fc.constantFrom(
  undefined, 'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=utf-16',
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/problem+json', 'application/json-seq',
);

/** Subjects the test hook passes through unchanged (printable ASCII, 1–256 characters). */
export const anySubject = fc
  .string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 256 })
  .filter((s) => !['throw', 'object', 'empty'].includes(s) && !s.startsWith('int:'));

/** Query strings naming other subjects or smuggling parameters. */
export const anyQueryish = fc.oneof(
  fc.constant(''),
  anySubject.map((s) => `subject=${encodeURIComponent(s)}&subjectId=${encodeURIComponent(s)}`),
  fc.constantFrom('user[id]=victim', '__proto__[subject]=victim', 'decision=denied', 'x=%00'),
);

/** Content-Encoding headers: the codings the router reads, codings it does not, and nonsense. */
export const anyCoding = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom('gzip', 'deflate', 'identity', 'GZIP') },
  { weight: 2, arbitrary: fc.constantFrom('br', 'zstd', 'x-gzip', 'gzip, gzip', 'identity, gzip', 'compress', 'x-garbage', '*') },
);

/** What is done to the bytes before they are sent: what the header says (`match`), or anything else. */
export type Packing = 'match' | 'none' | 'gzip' | 'deflate' | 'br' | 'gzip-truncated' | 'deflate-truncated' | 'br-truncated' | 'garbage';
export const anyPacking = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Packing>('match') },
  { weight: 2, arbitrary: fc.constantFrom<Packing>('none', 'gzip', 'deflate', 'br', 'gzip-truncated', 'deflate-truncated', 'br-truncated', 'garbage') },
);

/** The bytes packed as `packing` says; `match` follows the Content-Encoding header. */
export function pack(bytes: Buffer, packing: Packing, coding: string | undefined): Buffer {
  const cut = (packed: Buffer) => packed.subarray(0, Math.max(1, Math.floor(packed.length / 2)));
  switch (packing) {
    case 'match': {
      const named = coding?.toLowerCase();
      return named === 'gzip' || named === 'deflate' || named === 'br' ? pack(bytes, named, coding) : bytes;
    }
    case 'none': return bytes;
    case 'gzip': return gzipSync(bytes);
    case 'deflate': return deflateSync(bytes);
    case 'br': return brotliCompressSync(bytes);
    case 'gzip-truncated': return cut(gzipSync(bytes));
    case 'deflate-truncated': return cut(deflateSync(bytes));
    case 'br-truncated': return cut(brotliCompressSync(bytes));
    case 'garbage': return Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), bytes]);
  }
}

/** `charset` parameters: none, UTF-8 spelled several ways, other charsets, malformed values. */
export const anyCharset = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('utf-8', 'UTF-8', '"utf-8"') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('utf8', 'utf-16le', 'utf-16', 'UTF-16BE', 'latin1', 'iso-8859-1', 'us-ascii', 'utf-7', 'UTF-7', 'garbage', '', '"unterminated', 'utf-8; charset=utf-16le'),
  },
);

/** How a body's text becomes bytes (the charset header may say otherwise). */
export const anyTextEncoding = fc.constantFrom<BufferEncoding>('utf8', 'utf8', 'utf8', 'utf16le', 'latin1');

/** Byte sequences that are not UTF-8: stray continuations, overlong forms, encoded surrogates, cut sequences, out of range. */
const INVALID_UTF8 = [
  [0x80], [0xbf], [0xc0, 0xaf], [0xc1, 0xbf], [0xc3], [0xe2, 0x82], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff], [0xef, 0xbb],
];

/** Write bodies the routes would accept, with invalid UTF-8 spliced into a string. */
export const invalidUtf8Body: fc.Arbitrary<Buffer> = fc
  .tuple(fc.constantFrom(...INVALID_UTF8), fc.constantFrom('{"decision":"granted","note":"a@b"}', '{"decisions":{"analytics":"granted"},"note":"@"}', '{"decision":"denied","data":{"k@":"v"}}', '{"decision":"gr@nted"}'))
  .map(([bad, json]) => {
    const [before, after] = json.split('@') as [string, string];
    return Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]);
  });

/** Bodies to encode: well-formed writes, invalid UTF-8, and the general hostile ones. */
export const anyEncodableBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('{"decision":"granted"}', '{"decision":"denied","note":"é 🏳️‍🌈"}', '{"decisions":{"analytics":"granted","ads":"denied"}}', '{}', '') },
  { weight: 2, arbitrary: invalidUtf8Body },
  { weight: 2, arbitrary: anyBody.filter((b): b is string | Buffer => b !== undefined) },
);
