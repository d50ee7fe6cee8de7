import { adminPaths, proofPaths } from './openapi-admin';
import { PROOF_SCHEMAS } from './openapi-admin-schemas';
import { body, idParam, ok, problems, queryParam, ref } from './openapi-parts';
import { SCHEMAS } from './openapi-schemas';


/**
 * The OpenAPI 3.1 document of the mounted routes. Paths are relative to the mount point,
 * given as the single server URL (`req.baseUrl`).
 */
export function openApiDocument(mountPath: string, options: { admin?: boolean } = {}): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'express-consent', version: '1', description: 'Consent decisions of the signed-in subject.' },
    servers: [{ url: mountPath === '' ? '/' : mountPath }],
    paths: {
      '/requirements': {
        get: {
          summary: 'Every registered requirement, in registration order',
          responses: {
            '200': ok({ type: 'object', additionalProperties: false, required: ['requirements'], properties: { requirements: { type: 'array', items: ref('Requirement') } } }),
            ...problems(),
          },
        },
      },
      '/me': {
        get: { summary: "The subject's states and pending list", responses: { '200': ok(ref('Me')), ...problems('401') } },
        post: {
          summary: 'Records 1–100 decisions, all or nothing',
          requestBody: body('PostBody'),
          responses: { '200': ok(ref('RecordResult')), ...problems('400', '401', '409', '413', '415', '422') },
        },
      },
      '/me/{id}': {
        parameters: [idParam],
        put: {
          summary: 'Records one decision',
          requestBody: body('PutBody'),
          responses: {
            '200': ok(ref('StateInfo')),
            '202': ok(ref('StateInfo'), 'The grant awaits confirmation (double opt-in)'),
            ...problems('400', '401', '404', '409', '413', '415'),
          },
        },
        delete: {
          summary: 'Records a denial (a withdrawal when it was granted, pending, expired or outdated)',
          responses: { '200': ok(ref('StateInfo')), ...problems('400', '401', '404', '415') },
        },
      },
      '/me/history': {
        get: {
          summary: "The subject's events, newest first",
          parameters: [
            queryParam('requirement', { type: 'string' }, 'Only events of this requirement'),
            queryParam('limit', { type: 'integer', minimum: 1, maximum: 200, default: 50 }, 'Page size'),
            queryParam('cursor', { type: 'string' }, 'nextCursor of the previous page'),
          ],
          responses: { '200': ok(ref('HistoryPage')), ...problems('400', '401') },
        },
      },
      ...proofPaths(),
      ...(options.admin ? adminPaths() : {}),
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': ok({ type: 'object', required: ['openapi', 'paths'] }) } },
      },
    },
    components: { schemas: { ...SCHEMAS, ...PROOF_SCHEMAS } },
  };
}
