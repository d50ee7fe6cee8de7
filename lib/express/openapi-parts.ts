import { BODY_LIMIT_BYTES } from './json-body';
import type { JsonSchema } from './openapi-schemas';

// Building blocks of the OpenAPI document.

/** A reference to a component schema. */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
/** JSON content of a schema. */
export const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
/** An HTML page (for people: a browser's request). */
export const html = { 'text/html': { schema: { type: 'string' } } };

const PROBLEMS: Record<string, string> = {
  '400': 'invalid_body: malformed JSON, a key given twice in one object, a body that does not decompress or is not UTF-8, wrong types, unknown fields, limits or a bad query',
  '401': 'no_subject: the request has no subject',
  '403': 'forbidden: an admin route without authorization, or a state-changing request a browser sent from another site (Sec-Fetch-Site or Origin)',
  '404': 'unknown_requirement: the id in the path is not registered',
  '409': 'version_mismatch: the version sent is not the current one',
  '413': `payload_too_large: the body is over ${String(BODY_LIMIT_BYTES)} bytes`,
  '415': 'unsupported_media_type: a body that is not UTF-8 application/json, or in a Content-Encoding other than gzip or deflate',
  '422': 'unknown_requirement: an id in the body is not registered',
  '429': 'rate_limited: too many writes for this subject, or new visitors from this address, in the current window (see Retry-After)',
  '500': 'internal_error',
  '503': 'store_unavailable: storage failed or timed out (see Retry-After)',
};

/** Problem responses for the given statuses, plus 500 and 503. */
export function problems(...statuses: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const status of [...statuses, '500', '503']) {
    out[status] = { description: PROBLEMS[status], content: { 'application/problem+json': { schema: ref('Problem') } } };
  }
  return out;
}

/** A 200-style JSON response. */
export const ok = (schema: JsonSchema, description = 'OK') => ({ description, content: json(schema) });
/** The `:id` path parameter. */
export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Requirement id' };
/** A required JSON request body of a component schema. */
export const body = (name: string) => ({ required: true, content: json(ref(name)) });
/** An optional query parameter. */
export const queryParam = (name: string, schema: JsonSchema, description: string) => ({ name, in: 'query', required: false, schema, description });


/** What the body rules can answer before any route runs: malformed JSON, too large, not JSON. */
const BODY_RULES = ['400', '413', '415'];

/**
 * Adds the body rules' answers (400, 413, 415) to every operation of `paths` that does not
 * list them: every route checks a body it is sent, also one that takes none (a GET), before
 * anything else. Responses are kept in status order.
 */
export function withBodyRules<P extends Record<string, Record<string, unknown>>>(paths: P): P {
  for (const item of Object.values(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const op = operation as { responses: Record<string, unknown> };
      const missing = BODY_RULES.filter((status) => !(status in op.responses));
      const added = problems(...missing);
      const merged: Record<string, unknown> = { ...op.responses };
      for (const status of missing) merged[status] = added[status];
      op.responses = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
    }
  }
  return paths;
}
