import { MAX_BATCH, MAX_CONTEXT, MAX_NOTE } from '../core/input';
import { ACTIONS, SOURCES, STATES } from '../vocabulary';
import { PROBLEM_TITLES } from './problem';

/** A JSON Schema (2020-12) object as used in the OpenAPI document. */
export type JsonSchema = Record<string, unknown>;

const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type, 'null'] });
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
const requirementId: JsonSchema = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' };
const note: JsonSchema = { type: ['string', 'null'], maxLength: MAX_NOTE };
const data: JsonSchema = { type: ['object', 'null'], description: 'Plain JSON object, ≤ 4096 bytes serialised, ≤ 8 levels deep' };
const decision: JsonSchema = { type: 'string', enum: ['granted', 'denied'] };
const context: JsonSchema = { type: ['string', 'null'], minLength: 1, maxLength: MAX_CONTEXT, description: 'Where the question was asked: a form name, a page path, a banner version' };
const locale: JsonSchema = { type: 'string', pattern: '^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$', description: 'The locale of the text shown: one the version has' };
const strings: JsonSchema = { type: ['array', 'null'], items: { type: 'string' } };
/** The text of a version in one locale, every field present. */
export const TEXT_PROPERTIES: Record<string, JsonSchema> = {
  title: { type: 'string' },
  description: { type: 'string' },
  url: { type: ['string', 'null'] },
  controller: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['name', 'contact'],
    properties: { name: { type: 'string' }, contact: { type: ['string', 'null'] } },
  },
  purposes: strings,
  dataCategories: strings,
  recipients: strings,
  retention: { type: ['string', 'null'] },
  transfers: { type: ['string', 'null'] },
};
const localizedText: JsonSchema = { type: 'object', additionalProperties: false, required: Object.keys(TEXT_PROPERTIES), properties: TEXT_PROPERTIES };
const REQUIREMENT_PROPERTIES: Record<string, JsonSchema> = {
  id: requirementId,
  version: { type: 'integer', minimum: 1 },
  ...TEXT_PROPERTIES,
  lawfulBasis: {
    type: 'string',
    enum: ['consent', 'legitimate_interests', 'contract', 'legal_obligation', 'vital_interests', 'public_task'],
  },
  mandatory: { type: 'boolean' },
  expiresAfterDays: { type: ['integer', 'null'], minimum: 1 },
  doubleOptIn: { type: 'boolean' },
  gpc: { type: 'boolean' },
  defaultLocale: { type: 'string' },
  locales: { type: 'array', items: { type: 'string' } },
  texts: { type: 'object', additionalProperties: localizedText },
  effectiveFrom: nullable(dateTime),
  locale: { type: 'string', description: 'The locale the text fields are in' },
};
const EVENT_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'string', description: 'Opaque and not sequential; the same for the event wherever it appears (history, exports, change events, verify problems)' },
  requirement: { type: 'string', description: 'The requirement id; "*" on an erase event, which concerns them all' },
  version: { type: 'integer', minimum: 0, description: 'The requirement version; 0 on an erase event' },
  action: { type: 'string', enum: [...ACTIONS] },
  state: { type: 'string', enum: [...STATES] },
  source: { type: 'string', enum: [...SOURCES] },
  actor: { type: ['string', 'null'] },
  at: dateTime,
  note: { type: ['string', 'null'] },
  data: { type: ['object', 'null'] },
  context: { type: ['string', 'null'], description: 'Where the question was asked' },
  locale: { type: ['string', 'null'], description: 'The locale of the text shown; null for events without one' },
};

/** An event as the routes show it, with the extra properties of one route (none for history). */
export function eventSchema(extra: Record<string, JsonSchema> = {}): JsonSchema {
  const properties = { ...EVENT_PROPERTIES, ...extra };
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

/** `components.schemas` of the document. */
export const SCHEMAS: Record<string, JsonSchema> = {
  Requirement: { type: 'object', additionalProperties: false, required: Object.keys(REQUIREMENT_PROPERTIES), properties: REQUIREMENT_PROPERTIES },
  RequirementText: {
    type: 'object',
    additionalProperties: false,
    required: ['requirement', 'version', 'textHash', 'lawfulBasis', 'defaultLocale', 'texts'],
    properties: {
      requirement: requirementId,
      version: { type: 'integer', minimum: 1 },
      textHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      lawfulBasis: REQUIREMENT_PROPERTIES.lawfulBasis as JsonSchema,
      defaultLocale: { type: 'string' },
      texts: { type: 'object', additionalProperties: localizedText },
    },
  },
  StateInfo: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'state', 'allowed', 'version', 'decidedAt', 'expiresAt'],
    properties: {
      id: requirementId,
      state: { type: 'string', enum: [...STATES] },
      allowed: { type: 'boolean' },
      version: { type: ['integer', 'null'], minimum: 1 },
      decidedAt: nullable(dateTime),
      expiresAt: nullable(dateTime),
    },
  },
  States: { type: 'object', additionalProperties: ref('StateInfo') },
  Event: eventSchema(),
  RecordResult: {
    type: 'object',
    additionalProperties: false,
    required: ['states', 'pending'],
    properties: { states: ref('States'), pending: { type: 'array', items: requirementId } },
  },
  Me: {
    type: 'object',
    additionalProperties: false,
    required: ['states', 'pending', 'gpc'],
    properties: {
      states: ref('States'),
      pending: { type: 'array', items: requirementId },
      gpc: {
        type: 'object',
        additionalProperties: false,
        required: ['seen'],
        properties: { seen: { type: 'boolean', description: 'Whether this request carried Sec-GPC: 1' } },
      },
    },
  },
  HistoryPage: {
    type: 'object',
    additionalProperties: false,
    required: ['events', 'nextCursor'],
    properties: { events: { type: 'array', items: ref('Event') }, nextCursor: { type: ['string', 'null'] } },
  },
  PutBody: {
    type: 'object',
    additionalProperties: false,
    required: ['decision'],
    properties: { decision, version: { type: 'integer', minimum: 1 }, locale, note, data, context },
  },
  PostBody: {
    type: 'object',
    additionalProperties: false,
    required: ['decisions'],
    properties: {
      decisions: {
        type: 'object',
        minProperties: 1,
        maxProperties: MAX_BATCH,
        additionalProperties: {
          oneOf: [
            decision,
            {
              type: 'object',
              additionalProperties: false,
              required: ['decision'],
              properties: { decision, version: { type: 'integer', minimum: 1 }, locale },
            },
          ],
        },
      },
      note,
      data,
      context,
    },
  },
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details',
    required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
    properties: {
      type: { type: 'string', pattern: '^urn:express-consent:[a-z_]+$' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', enum: Object.keys(PROBLEM_TITLES) },
      instance: { type: 'string' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['pointer', 'detail'],
          properties: { pointer: { type: 'string' }, detail: { type: 'string' } },
        },
      },
      ids: { type: 'array', items: { type: 'string' } },
      requirements: {
        type: 'array',
        description: 'version_mismatch: the current version of each requirement sent',
        items: { type: 'object', required: ['id', 'version'], properties: { id: { type: 'string' }, version: { type: 'integer', minimum: 1 } } },
      },
      limit: { type: 'integer', description: 'payload_too_large: the largest body taken, in bytes' },
      accept: { type: 'array', items: { type: 'string' }, description: 'unsupported_media_type: the media types taken' },
      textHash: { type: 'string', description: 'unknown_requirement from GET /texts/{hash}: the hash asked for' },
      retryAfter: { type: 'integer', minimum: 1, description: 'rate_limited: seconds to wait, as in the Retry-After header' },
      missing: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'title', 'url'],
          properties: {
            id: { type: 'string' },
            state: { type: 'string', enum: [...STATES] },
            reason: { type: 'string' },
            title: { type: 'string' },
            url: { type: ['string', 'null'] },
          },
        },
      },
    },
  },
};
