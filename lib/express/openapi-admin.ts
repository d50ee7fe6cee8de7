import { ACTIONS, SOURCES } from '../vocabulary';
import { html, ok, problems, queryParam, ref } from './openapi-parts';

const string = { type: 'string' };
const filters = [
  queryParam('requirement', string, 'Only events of this requirement'),
  queryParam('action', { type: 'string', enum: [...ACTIONS] }, 'Only this action'),
  queryParam('source', { type: 'string', enum: [...SOURCES] }, 'Only events of this source'),
  queryParam('context', { type: 'string', minLength: 1, maxLength: 200 }, 'Only events with exactly this context'),
  queryParam('actor', { type: 'string', minLength: 1, maxLength: 256 }, 'Only events with exactly this actor'),
  queryParam('from', { type: 'string', format: 'date-time' }, 'Only events at or after this instant (ISO-8601)'),
  queryParam('to', { type: 'string', format: 'date-time' }, 'Only events before this instant (ISO-8601)'),
];
const subjectParam = { name: 'subjectId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 256 }, description: 'The subject id (not the pseudonym)' };

/** Paths of the proof routes: receipt, export, receipt key, erasure and verification. */
export function proofPaths(): Record<string, unknown> {
  return {
    '/me/receipt': {
      get: { summary: "A signed receipt of the subject's decisions", responses: { '200': ok(ref('Receipt')), ...problems('401') } },
    },
    '/me/export': {
      get: { summary: 'Everything stored about the subject (Art. 15)', responses: { '200': ok(ref('SubjectExport')), ...problems('401') } },
    },
    '/receipts/key': {
      get: { summary: 'The receipt verification key', responses: { '200': ok(ref('ReceiptKey')), ...problems() } },
    },
  };
}

const download = {
  description: 'A download (Content-Disposition: attachment)',
  content: { 'text/csv': { schema: string }, 'application/x-ndjson': { schema: string } },
};

/** Problem responses of a console page: the console's own page for a browser, problem+json for a program. */
function pageProblems(...statuses: string[]): Record<string, unknown> {
  const answers = problems(...statuses, '413', '415') as Record<string, { description: string; content: Record<string, unknown> }>;
  return Object.fromEntries(Object.entries(answers).map(([status, answer]) => [status, { ...answer, content: { ...answer.content, ...html } }]));
}

const langParam = queryParam('lang', string, 'The language of the page (else Accept-Language)');

/** Paths of the admin console (HTML pages for staff), documented with the admin routes. */
export function consolePaths(): Record<string, unknown> {
  return {
    '/admin/console': {
      get: {
        summary: 'Sends the console to its overview (with a final slash), keeping the query',
        parameters: [langParam],
        responses: { '301': { description: 'Moved Permanently: Location is the overview' }, ...pageProblems('400', '403') },
      },
    },
    '/admin/console/': {
      get: {
        summary: 'The console overview: requirements with their versions, texts and subjects by state, grants and withdrawals per day',
        parameters: [langParam],
        responses: { '200': { description: 'The page', content: html }, ...pageProblems('400', '403') },
      },
    },
    '/admin/console/subject': {
      get: {
        summary: "The subject lookup: a form, and for an id the subject's states, verified chain and history",
        parameters: [queryParam('id', { type: 'string' }, 'The subject id (not the pseudonym)'), langParam],
        responses: {
          '200': { description: 'The page', content: html },
          '400': { description: 'The form, saying why the id is not one the library takes (or a bad query)', content: { ...html, 'application/problem+json': { schema: ref('Problem') } } },
          ...pageProblems('403'),
        },
      },
    },
    '/admin/console/export': {
      get: {
        summary: 'The export buttons of the console: the download of GET /admin/export',
        parameters: [queryParam('format', { type: 'string', enum: ['csv', 'ndjson'], default: 'csv' }, 'Output format'), ...filters],
        responses: { '200': download, ...pageProblems('400', '403') },
      },
    },
  };
}

/** Paths of the admin routes, documented only when `admin.authorize` is configured. */
export function adminPaths(): Record<string, unknown> {
  return {
    '/admin/subjects/{subjectId}': {
      parameters: [subjectParam],
      get: { summary: "A subject's states and pending list", responses: { '200': ok(ref('RecordResult')), ...problems('400', '403') } },
      delete: { summary: 'Erases the subject (Art. 17)', responses: { '200': ok(ref('Erasure')), ...problems('400', '403', '415') } },
    },
    '/admin/subjects/{subjectId}/decisions': {
      parameters: [subjectParam],
      post: {
        summary: 'Records decisions for the subject on behalf of staff (source admin, with the actor admin.authorize named)',
        requestBody: { required: true, content: { 'application/json': { schema: ref('PostBody') } } },
        responses: { '200': ok(ref('RecordResult')), ...problems('400', '403', '409', '413', '415', '422') },
      },
    },
    '/admin/requirements/{id}/subjects': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The requirement id' }],
      get: {
        summary: 'The subject ids (as the application gave them) whose current state matches, streamed (subject, state)',
        parameters: [
          queryParam('allowed', { type: 'string', enum: ['true', 'false'] }, 'Allowed now or not (default true without state)'),
          queryParam('state', { type: 'string', pattern: '^(unset|denied|pending|outdated|expired|granted)(,(unset|denied|pending|outdated|expired|granted))*$' }, 'Only these states, separated by commas'),
          queryParam('gpc', { type: 'string', enum: ['true', 'false'] }, 'Judge as for a request carrying Sec-GPC: 1'),
          queryParam('format', { type: 'string', enum: ['csv', 'ndjson'], default: 'csv' }, 'Output format'),
        ],
        responses: { '200': download, ...problems('400', '403', '404') },
      },
    },
    '/admin/subjects/{subjectId}/history': {
      parameters: [subjectParam],
      get: {
        summary: "A subject's events, newest first",
        parameters: [
          queryParam('requirement', string, 'Only events of this requirement'),
          queryParam('limit', { type: 'integer', minimum: 1, maximum: 200, default: 50 }, 'Page size'),
          queryParam('cursor', string, 'nextCursor of the previous page'),
        ],
        responses: { '200': ok(ref('HistoryPage')), ...problems('400', '403') },
      },
    },
    '/admin/events': {
      get: {
        summary: "Every subject's events, newest first, with the subject pseudonym",
        parameters: [
          ...filters,
          queryParam('limit', { type: 'integer', minimum: 1, maximum: 200, default: 50 }, 'Page size'),
          queryParam('cursor', string, 'nextCursor of the previous page'),
        ],
        responses: { '200': ok(ref('AdminEventPage')), ...problems('400', '403') },
      },
    },
    '/admin/export': {
      get: {
        summary: 'Every matching event, oldest first, streamed (id, at, requirement, version, action, state, source, subject, actor, context, locale)',
        parameters: [queryParam('format', { type: 'string', enum: ['csv', 'ndjson'], default: 'csv' }, 'Output format'), ...filters],
        responses: { '200': download, ...problems('400', '403') },
      },
    },
    '/admin/checkpoint': {
      get: {
        summary: 'A signed checkpoint of the global log (size, root, time): keep it where the database owner cannot rewrite it',
        responses: { '200': ok(ref('Checkpoint')), ...problems('403') },
      },
    },
    '/admin/verify': {
      get: {
        summary: 'Checks the hash chains of every subject (or of one) and the global log',
        parameters: [queryParam('subjectId', { type: 'string', minLength: 1, maxLength: 256 }, 'Only this subject')],
        responses: { '200': ok(ref('VerifyResult')), ...problems('400', '403') },
      },
    },
    '/admin/stats': {
      get: { summary: 'Subjects per state and version, events per action', responses: { '200': ok(ref('AdminStats')), ...problems('403') } },
    },
  };
}
