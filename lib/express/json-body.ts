import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ConsentError } from '../errors';
import { duplicateKeyPointer } from '../duplicate-keys';
import { parseMediaType } from './media-type';

/** The largest body the router accepts: 16 KiB (a larger one is 413 `payload_too_large`). */
export const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * The content codings the router reads. Both body-parser majors (Express 4 and 5) decode these;
 * Express 5's also reads `br`, which would make the answer depend on the host's Express.
 */
export const BODY_CODINGS: readonly string[] = ['identity', 'gzip', 'deflate'];

/** Whether a request carries a body, by its headers (as `type-is` decides). */
export function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Whether the request's `Content-Type` is `mediaType` (parameters allowed, `+json` variants not). */
export function hasMediaType(req: IncomingMessage, mediaType: string): boolean {
  return parseMediaType(req.headers['content-type'])?.type === mediaType;
}

/** Whether a host body parser already read the stream (body-parser 1.x flags it; 2.x does not). */
export function alreadyRead(req: IncomingMessage): boolean {
  return (req as { _body?: unknown })._body === true || (req.complete && !req.readable);
}

const unsupported = (detail: string, extensions: Record<string, unknown> = {}) =>
  new ConsentError('unsupported_media_type', detail, { extensions });

function tooLarge(): ConsentError {
  return new ConsentError('payload_too_large', `the body is larger than ${String(BODY_LIMIT_BYTES)} bytes`, {
    extensions: { limit: BODY_LIMIT_BYTES },
  });
}

const unreadable = (detail: string, errorDetail: string) =>
  new ConsentError('invalid_body', detail, { extensions: { errors: [{ pointer: '', detail: errorDetail }] } });

/**
 * What a body's headers alone rule out, in the router's order of checks: a media type other than
 * `mediaType` (or a malformed `Content-Type`), a charset other than UTF-8, or a content coding
 * the router does not read (415); a `Content-Length` over 16 KiB (413). Null when none applies.
 */
function headerProblem(req: Request, res: Response, mediaType: string): ConsentError | null {
  const parsed = parseMediaType(req.headers['content-type']);
  if (parsed?.type !== mediaType) return unsupported(`send the body as ${mediaType}`, { accept: [mediaType] });
  const charset = parsed.parameters.get('charset');
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
    return unsupported('send the body as UTF-8: its charset is not supported', { accept: [mediaType] });
  }
  const coding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (!BODY_CODINGS.includes(coding)) {
    // RFC 9110 §15.5.16: a 415 for a content coding says which codings would have been read.
    res.set('Accept-Encoding', BODY_CODINGS.filter((c) => c !== 'identity').join(', '));
    return unsupported('the Content-Encoding of the body is not supported: send it unencoded, or gzip or deflate encoded');
  }
  if (Number(req.headers['content-length']) > BODY_LIMIT_BYTES) return tooLarge();
  return null;
}

// The body parser replaces invalid UTF-8 with U+FFFD: a history would then hold what nobody sent.
function assertUtf8(body: Buffer): void {
  if (!isUtf8(body)) throw unreadable('the body is not valid UTF-8', 'invalid UTF-8');
}

/**
 * The body parser keeps the last of two members with one key (`{"decision":"denied",
 * "decision":"granted"}` would record a grant): such a body is refused, once it is known to be
 * JSON (malformed JSON is reported as such).
 */
function assertUtf8Json(body: Buffer): void {
  assertUtf8(body);
  // The parser reads past a byte order mark; so must the check.
  const text = withoutBom(body.toString('utf8'));
  const pointer = duplicateKeyPointer(text);
  if (pointer === null || !parses(text)) return;
  throw new ConsentError('invalid_body', 'the body gives one key twice in an object', {
    extensions: { errors: [{ pointer, detail: 'is given more than once' }] },
  });
}

/** `assertUtf8Json` as body-parser's `verify`. */
function requireUtf8Json(_req: IncomingMessage, _res: unknown, body: Buffer): void {
  assertUtf8Json(body);
}

const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The consent error a body-parser failure stands for; anything else is passed on unchanged. */
function fromParserError(error: unknown, req: Request): unknown {
  // requireUtf8's refusal comes back through the parser as it was thrown.
  if (error instanceof ConsentError || error === null || typeof error !== 'object') return error;
  const { type, status } = error as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large') return tooLarge();
  if (type === 'entity.parse.failed') return unreadable('the body is not valid JSON', 'malformed JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return unsupported('send the body as UTF-8 without an unsupported Content-Encoding');
  }
  if (typeof status !== 'number' || status < 400 || status >= 500) return error;
  // Decompression errors carry a status but no type: the body is not what its headers say.
  const coding = req.headers['content-encoding']?.toLowerCase();
  if (coding !== undefined && coding !== 'identity') {
    return unreadable(`the body is not valid ${coding} data`, `cannot be decoded as ${coding}`);
  }
  return unreadable('the body could not be read', 'unreadable body');
}

/**
 * Whether JSON a host parser read was over the limit, when no `Content-Length` said so (sent in
 * chunks, or compressed), judged by its JSON text: no longer than what was sent (spaces
 * dropped, escapes decoded), but for numbers written with an exponent (`1e9`). No body the
 * routes accept comes near the limit, so such a body is refused either way.
 */
function parsedTooLarge(body: unknown): boolean {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch {
    // A host parser's own values (a BigInt, a cycle): the body rules refuse what they cannot read.
    return false;
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JSON.stringify(undefined) is undefined, whatever its type says
  return text !== undefined && text.length > BODY_LIMIT_BYTES / 3 && Buffer.byteLength(text, 'utf8') > BODY_LIMIT_BYTES;
}

// The most fields a form the router reads may have.
const FORM_FIELDS = 10;

// body-parser's strict mode: a JSON body is an object or an array.
const STRICT_JSON_START = /^[ \t\n\r]*[[{]/;

/**
 * The body a host's raw (a Buffer) or text (a string) parser kept, read as the router's own
 * parser reads it: 413 over 16 KiB, 400 for invalid UTF-8 (seen only in a Buffer: a text parser
 * has already decoded it), malformed or non-strict JSON and repeated keys; a form as
 * `express.urlencoded({ extended: false })` reads it.
 */
function readHeld(held: Buffer | string, mediaType: string): unknown {
  const bytes = typeof held === 'string' ? Buffer.from(held, 'utf8') : held;
  if (bytes.length > BODY_LIMIT_BYTES) throw tooLarge();
  if (mediaType !== 'application/json') {
    assertUtf8(bytes);
    const text = bytes.toString('utf8');
    // body-parser refuses more than `parameterLimit` fields, which `maxKeys` would drop unsaid.
    if (text.split('&').length > FORM_FIELDS) throw unreadable('the body could not be read', 'unreadable body');
    return { ...parseQuery(text, undefined, undefined, { maxKeys: FORM_FIELDS }) };
  }
  assertUtf8Json(bytes);
  const text = withoutBom(bytes.toString('utf8'));
  if (!STRICT_JSON_START.test(text)) throw unreadable('the body is not valid JSON', 'malformed JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw unreadable('the body is not valid JSON', 'malformed JSON');
  }
}

/**
 * A body reader for `mediaType`: its header rules first (415, 413), then `parse` (a body-parser
 * middleware) with every failure handed on as a consent error (400, 413, 415). A body a host
 * parser already read is taken as parsed, under the same header rules.
 */
function bodyReader(mediaType: string, parse: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (!carriesBody(req)) { next(); return; }
    const refused = headerProblem(req, res, mediaType);
    if (refused) { next(refused); return; }
    if (alreadyRead(req)) {
      const held: unknown = req.body;
      // A host's raw or text parser (`express.raw()`, `express.text({ type: '*/*' })`) kept the
      // body as it was sent: it is read here under the router's own rules.
      if (Buffer.isBuffer(held) || typeof held === 'string') {
        try {
          req.body = readHeld(held, mediaType);
        } catch (error) {
          next(error);
          return;
        }
        next();
        return;
      }
      next(mediaType === 'application/json' && parsedTooLarge(held) ? tooLarge() : undefined);
      return;
    }
    parse(req, res, ((error?: unknown) => { next(error === undefined ? undefined : fromParserError(error, req)); }) as NextFunction);
  };
}

/**
 * The router's own JSON body parsing, in its order of checks: 415 for a body that is not UTF-8
 * JSON in a coding the router reads (checked before reading), 413 over 16 KiB (also once
 * decompressed), 400 for a body that does not decode, is not UTF-8, is malformed JSON or gives
 * one key twice in an object.
 */
export function jsonBody(): RequestHandler {
  const parse = express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: () => true, verify: requireUtf8Json });
  return bodyReader('application/json', parse);
}

/** An urlencoded form under the same rules as `jsonBody` (the confirmation page's own form). */
export function formBody(): RequestHandler {
  const parse = express.urlencoded({ extended: false, limit: BODY_LIMIT_BYTES, parameterLimit: FORM_FIELDS, type: () => true });
  return bodyReader('application/x-www-form-urlencoded', parse);
}
