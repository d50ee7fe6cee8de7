import { ACTIONS } from '../vocabulary';
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
const counts = (keys: readonly string[]) => object(Object.fromEntries(keys.map((k) => [k, count])));
const hex: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const signature = object({ alg: { type: 'string', enum: ['EdDSA'] }, kid: { type: 'string' }, signature: { type: 'string' } });
const controller: JsonSchema = {
  type: ['object', 'null'],
  required: ['name'],
  properties: { name: { type: 'string' }, contact: { type: 'string' } },
};

/** `components.schemas` of the proof and admin routes. */
export const PROOF_SCHEMAS: Record<string, JsonSchema> = {
  Receipt: object({
    version: { type: 'integer', enum: [1] },
    receiptId: { type: 'string' },
    issuedAt: dateTime,
    controller,
    subject: { type: 'string', description: 'The pseudonym' },
    decisions: {
      type: 'array',
      items: object({
        requirement: { type: 'string' },
        version: { type: 'integer', minimum: 1 },
        state: { type: 'string' },
        lawfulBasis: { type: ['string', 'null'], description: 'Null for a version this store never held (imported)' },
        decidedAt: nullableDateTime,
        expiresAt: nullableDateTime,
        textHash: { type: ['string', 'null'], description: 'Null for a version this store never held (imported)' },
        locale: { type: ['string', 'null'], description: 'The locale the text was shown in' },
      }),
    },
    log: {
      oneOf: [
        { type: 'null' },
        object({
          eventId: { type: 'string', description: "The subject's newest event" },
          leafIndex: count,
          leafHash: hex,
          path: { type: 'array', items: hex, description: 'Audit path (RFC 9162 §2.1.3), nearest sibling first' },
          checkpoint: ref('Checkpoint'),
        }),
      ],
      description: "Where the subject's newest event stands in the global log; null without events",
    },
    proof: signature,
  }),
  Checkpoint: object({
    version: { type: 'integer', enum: [1] },
    size: { ...count, description: 'Events in the global log' },
    root: { ...hex, description: 'Merkle tree root of the global log (SHA-256, RFC 9162 style)' },
    issuedAt: dateTime,
    controller,
    proof: signature,
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
        eventId: {
          type: 'string',
          description: 'The event concerned (its public id); a position (`<chain>:<seq>`, `log:<leaf>`, `log`, `checkpoint:<size>`, `requirement:<id>:<version>`) when no event id is known',
        },
        kind: {
          type: 'string',
          enum: ['modified', 'deleted', 'inserted', 'reordered', 'truncated', 'chain_missing', 'rollback', 'state_mismatch', 'subject_link', 'text_changed'],
        },
        chain: { type: 'string', description: "The subject's chain (its internal key), where known" },
        requirement: { type: 'string', description: 'The requirement, where known' },
        version: { type: 'integer', minimum: 1, description: 'The requirement version, where known' },
      }, { required: ['eventId', 'kind'] }),
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
    events: counts(ACTIONS),
    outbox: {
      type: 'object',
      description: 'Outbox entries still to deliver, by durable handler name; a handler no process registers any more keeps its entries',
      additionalProperties: object({ entries: { type: 'integer', minimum: 1 }, earliestDueAt: dateTime }),
    },
  }),
};
