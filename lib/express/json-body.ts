import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';
import { ConsentError } from '../errors';

/** The largest body the router accepts (SPEC §4): 16 KiB. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** Whether a request carries a body, by its headers (as `type-is` decides). */
export function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** `application/json`, parameters allowed; nothing else (no `+json` variants). */
export function isJsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && (contentType.split(';')[0] ?? '').trim().toLowerCase() === 'application/json';
}

/** Whether a host body parser already read the stream (body-parser 1.x flags it; 2.x does not). */
function alreadyRead(req: IncomingMessage): boolean {
  return (req as { _body?: unknown })._body === true || (req.complete && !req.readable);
}

/**
 * The router's own JSON body parsing, in the order of SPEC §4: 415 for a body that is not
 * JSON (checked before reading), 413 over 16 KiB, 400 for malformed JSON. A body a host
 * parser already read is taken as parsed; its size is then judged by `Content-Length`.
 */
export function jsonBody(): RequestHandler {
  const parse = express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: () => true });
  return (req, res, next) => {
    if (!carriesBody(req)) return next();
    if (!isJsonType(req.headers['content-type'])) {
      return next(new ConsentError('unsupported_media_type', 'send the body as application/json', {
        extensions: { accept: ['application/json'] },
      }));
    }
    if (Number(req.headers['content-length']) > BODY_LIMIT_BYTES) return next(tooLarge());
    if (alreadyRead(req)) return next();
    parse(req, res, next);
  };
}

function tooLarge(): ConsentError {
  return new ConsentError('payload_too_large', `the body is larger than ${BODY_LIMIT_BYTES} bytes`, {
    extensions: { limit: BODY_LIMIT_BYTES },
  });
}

/** The consent error a body-parser error stands for, or null when it is not one. */
export function fromParserError(error: unknown): ConsentError | null {
  if (error === null || typeof error !== 'object' || typeof (error as { type?: unknown }).type !== 'string') return null;
  const { type, status } = error as { type: string; status?: unknown };
  switch (type) {
    case 'entity.too.large':
      return tooLarge();
    case 'entity.parse.failed':
      return new ConsentError('invalid_body', 'the body is not valid JSON', {
        extensions: { errors: [{ pointer: '', detail: 'malformed JSON' }] },
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ConsentError('unsupported_media_type', 'send the body as UTF-8 application/json without an unsupported encoding');
    default:
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return new ConsentError('invalid_body', 'the body could not be read', {
          extensions: { errors: [{ pointer: '', detail: 'unreadable body' }] },
        });
      }
      return null;
  }
}
