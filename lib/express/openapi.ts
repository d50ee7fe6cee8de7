import { adminPaths, consolePaths, proofPaths } from './openapi-admin';
import { PROOF_SCHEMAS } from './openapi-admin-schemas';
import { body, html, idParam, json, ok, problems, queryParam, ref, withBodyRules } from './openapi-parts';
import { SCHEMAS } from './openapi-schemas';
import { TOKEN_LENGTH } from '../core/tokens';

const tokenSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]+$', minLength: TOKEN_LENGTH.min, maxLength: TOKEN_LENGTH.max };
const tokenParam = { name: 'token', in: 'path', required: true, schema: tokenSchema, description: 'Confirmation token from the link' };

/** A static asset of the browser client, validated by its ETag. */
const asset = (summary: string, type: string) => ({
  get: {
    summary,
    responses: {
      '200': { description: 'OK (cacheable; ETag)', content: { [type]: { schema: { type: 'string' } } } },
      '304': { description: 'Not modified (If-None-Match)' },
    },
  },
});

/** Problems of a confirmation token, and of the POST's optional body. */
function tokenProblems(post: boolean): Record<string, unknown> {
  const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') }, ...html } });
  return {
    '404': problem('token_invalid: unknown, used, superseded or cancelled'),
    '409': problem('version_mismatch: the requirement changed since the link was sent'),
    '410': problem('token_expired: the link is past its lifetime'),
    ...(post ? problems('400', '403', '413', '415') : problems()),
  };
}

/**
 * The OpenAPI 3.1 document of the mounted routes. Paths are relative to the mount point,
 * given as the single server URL (`req.baseUrl`). `rateLimit`: the subject's writes may
 * answer 429.
 */
export function openApiDocument(mountPath: string, options: { admin?: boolean; rateLimit?: boolean } = {}): Record<string, unknown> {
  const limited = options.rateLimit ? ['429'] : [];
  return {
    openapi: '3.1.0',
    info: {
      title: 'express-consent',
      version: '1',
      description: 'Consent decisions of the signed-in subject, or of a visitor (a signed cookie, set by their first write) when visitors are on.',
    },
    servers: [{ url: mountPath === '' ? '/' : mountPath }],
    paths: withBodyRules({
      '/requirements': {
        get: {
          summary: 'Every registered requirement, in registration order, in the negotiated locale (?lang=, then Accept-Language)',
          parameters: [{ name: 'lang', in: 'query', required: false, schema: { type: 'string' } }],
          responses: {
            '200': ok({
              type: 'object',
              additionalProperties: false,
              required: ['locale', 'requirements'],
              properties: { locale: { type: 'string' }, requirements: { type: 'array', items: ref('Requirement') } },
            }),
            ...problems('400'),
          },
        },
      },
      '/texts/{hash}': {
        parameters: [{ name: 'hash', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }],
        get: {
          summary: 'The stored text a receipt or an export cites by its hash, every locale and field',
          responses: { '200': ok(ref('RequirementText')), ...problems('400', '404') },
        },
      },
      '/me': {
        get: { summary: "The subject's states and pending list", responses: { '200': ok(ref('Me')), ...problems('401') } },
        post: {
          summary: 'Records 1–100 decisions, all or nothing',
          requestBody: body('PostBody'),
          responses: { '200': ok(ref('RecordResult')), ...problems('400', '401', '403', '409', '413', '415', '422', ...limited) },
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
            ...problems('400', '401', '403', '404', '409', '413', '415', ...limited),
          },
        },
        delete: {
          summary: 'Records a denial (a withdrawal when it was granted, pending, expired or outdated)',
          responses: { '200': ok(ref('StateInfo')), ...problems('400', '401', '403', '404', '415', ...limited) },
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
      '/confirm/{token}': {
        parameters: [tokenParam],
        get: {
          summary: 'What the token would confirm; changes nothing (an HTML page with a button when preferred)',
          responses: {
            '200': { description: 'OK', content: { ...json({ type: 'object', additionalProperties: false, required: ['requirement', 'expiresAt'], properties: { requirement: ref('Requirement'), expiresAt: { type: 'string', format: 'date-time' } } }), ...html } },
            ...tokenProblems(false),
          },
        },
        post: {
          summary: 'Confirms a double opt-in request; takes no body (the confirmation page posts an empty form; a field is invalid_body)',
          requestBody: { required: false, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', maxProperties: 0 } }, 'application/json': { schema: { type: 'object', maxProperties: 0 } } } },
          responses: { '200': { description: 'Confirmed: granted', content: { ...json(ref('StateInfo')), ...html } }, ...tokenProblems(true) },
        },
      },
      '/client.js': asset('The browser client: banner, choices dialog, gating of scripts and iframes', 'text/javascript'),
      '/client.css': asset("The browser client's stylesheet", 'text/css'),
      ...proofPaths(),
      ...(options.admin ? { ...adminPaths(), ...consolePaths() } : {}),
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': ok({ type: 'object', required: ['openapi', 'paths'], properties: { openapi: { type: 'string' }, paths: { type: 'object' } } }) } },
      },
    }),
    components: { schemas: { ...SCHEMAS, ...PROOF_SCHEMAS } },
  };
}
