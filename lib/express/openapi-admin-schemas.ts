import { eventSchema, TEXT_PROPERTIES, type JsonSchema } from './openapi-schemas';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
const nullableDateTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
const object = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
  ...extra,
});
const count: JsonSchema = { type: 'integer', minimum: 0 };
const VERSION_COUNTS = ['granted', 'denied', 'pending', 'expired', 'outdated'];
const counts = (keys: string[]) => object(Object.fromEntries(keys.map((k) => [k, count])));

/** `components.schemas` of the proof and admin routes. */
export const PROOF_SCHEMAS: Record<string, JsonSchema> = {
  Receipt: object({
    version: { type: 'integer', enum: [1] },
    receiptId: { type: 'string' },
    issuedAt: dateTime,
    controller: {
      type: ['object', 'null'],
      required: ['name'],
      properties: { name: { type: 'string' }, contact: { type: 'string' } },
    },
    subject: { type: 'string', description: 'The pseudonym' },
    decisions: {
      type: 'array',
      items: object({
        requirement: { type: 'string' },
        version: { type: 'integer', minimum: 1 },
        state: { type: 'string' },
        lawfulBasis: { type: 'string' },
        decidedAt: nullableDateTime,
        expiresAt: nullableDateTime,
        textHash: { type: 'string' },
        locale: { type: 'string', description: 'The locale the text was shown in' },
      }),
    },
    proof: object({ alg: { type: 'string', enum: ['EdDSA'] }, kid: { type: 'string' }, signature: { type: 'string' } }),
  }),
  SubjectExport: object({
    subject: { type: 'string', description: 'The pseudonym' },
    exportedAt: dateTime,
    states: ref('States'),
    pending: { type: 'array', items: { type: 'string' } },
    confirmations: {
      type: 'array',
      items: object({
        requirement: { type: 'string' },
        version: { type: ['integer', 'null'] },
        requestedAt: nullableDateTime,
        expiresAt: nullableDateTime,
      }),
    },
    events: {
      type: 'array',
      items: eventSchema({ network: object({ ip: { type: ['string', 'null'] }, userAgent: { type: ['string', 'null'] } }) }),
    },
    texts: {
      type: 'array',
      description: 'For every version decided on, the text exactly as shown, in the locale shown',
      items: object({ requirement: { type: 'string' }, version: { type: 'integer', minimum: 1 }, locale: { type: 'string' }, textHash: { type: 'string' }, ...TEXT_PROPERTIES }),
    },
  }),
  ReceiptKey: object({ alg: { type: 'string', enum: ['Ed25519'] }, publicKey: { type: 'string', description: 'SPKI PEM' } }),
  VerifyResult: object({
    ok: { type: 'boolean' },
    checked: count,
    problems: {
      type: 'array',
      items: object({
        eventId: { type: 'string', description: 'The event concerned (its public id); a position (`<chain>:<seq>`, `ledger:<n>`) when no event id is known' },
        kind: { type: 'string', enum: ['modified', 'deleted', 'inserted', 'reordered', 'truncated', 'chain_missing'] },
      }),
    },
  }),
  AdminEventPage: object({
    events: {
      type: 'array',
      items: eventSchema({ subject: { type: ['string', 'null'], description: 'The pseudonym; null once erased' } }),
    },
    nextCursor: { type: ['string', 'null'] },
  }),
  Erasure: object({ events: count }),
  AdminStats: object({
    subjects: count,
    requirements: {
      type: 'object',
      additionalProperties: object({
        version: { type: 'integer', minimum: 1 },
        states: counts([...VERSION_COUNTS, 'unset']),
        versions: { type: 'object', additionalProperties: counts(VERSION_COUNTS) },
      }),
    },
    events: counts(['grant', 'deny', 'withdraw', 'request', 'confirm', 'expire', 'erase']),
  }),
};
