import { REQUIREMENT_ID } from '../registry/validate';
import { ConsentError } from '../errors';
import { contextProblems, dataProblems, isPlainObject, noteProblems, parseDecisions, type InputProblem } from '../core/input';
import type { Decision, DecisionInput, HistoryOptions } from '../types';
import { isLocaleTag } from '../i18n/negotiate';
import { escapePointer } from '../json-pointer';

/** A validated write body: the decisions and the request's note, data and context. */
export interface WriteBody {
  decisions: Record<string, DecisionInput>;
  note: string | null;
  data: Record<string, unknown> | null;
  context: string | null;
}


function invalid(problems: InputProblem[]): ConsentError {
  return new ConsentError('invalid_body', problems.map((p) => `${p.pointer || '(body)'}: ${p.detail}`).join('; '), {
    extensions: { errors: problems },
  });
}

function objectBody(body: unknown, allowed: readonly string[], problems: InputProblem[]): Record<string, unknown> | null {
  if (!isPlainObject(body)) {
    problems.push({ pointer: '', detail: 'must be a JSON object' });
    return null;
  }
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) problems.push({ pointer: `/${escapePointer(key)}`, detail: 'unknown field' });
  }
  problems.push(...noteProblems(body.note, '/note'), ...dataProblems(body.data, '/data'), ...contextProblems(body.context, '/context'));
  return body;
}

function finish(body: Record<string, unknown>, decisions: Record<string, DecisionInput>): WriteBody {
  return {
    decisions,
    note: (body.note as string | null | undefined) ?? null,
    data: (body.data as Record<string, unknown> | null | undefined) ?? null,
    context: (body.context as string | null | undefined) ?? null,
  };
}

/**
 * `PUT /me/:id` body: `{ decision, version?, locale?, note?, data?, context? }`.
 * @throws ConsentError `invalid_body` listing every problem with a JSON Pointer.
 */
export function parsePutBody(id: string, input: unknown): WriteBody {
  const problems: InputProblem[] = [];
  const body = objectBody(input, ['decision', 'version', 'locale', 'note', 'data', 'context'], problems);
  if (body && body.decision !== 'granted' && body.decision !== 'denied') {
    problems.push({ pointer: '/decision', detail: 'must be "granted" or "denied"' });
  }
  const version = body?.version;
  if (version !== undefined && (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)) {
    problems.push({ pointer: '/version', detail: 'must be a positive integer' });
  }
  const locale = body?.locale;
  if (locale !== undefined && !isLocaleTag(locale)) problems.push({ pointer: '/locale', detail: 'must be a language tag such as "de"' });
  if (!body || problems.length > 0) throw invalid(problems);
  const decision = body.decision as Decision;
  if (version === undefined && locale === undefined) return finish(body, { [id]: decision });
  return finish(body, { [id]: { decision, ...(version === undefined ? {} : { version: version as number }), ...(locale === undefined ? {} : { locale: locale as string }) } });
}

/** `POST /me` body: `{ decisions: { [id]: decision | { decision, version?, locale? } }, note?, data?, context? }`. */
export function parsePostBody(input: unknown): WriteBody {
  const problems: InputProblem[] = [];
  const body = objectBody(input, ['decisions', 'note', 'data', 'context'], problems);
  if (body) problems.push(...parseDecisions(body.decisions, '/decisions').problems);
  if (!body || problems.length > 0) throw invalid(problems);
  return finish(body, body.decisions as Record<string, DecisionInput>);
}

/** `DELETE /me/:id` takes no body; an empty JSON object is tolerated (some clients send one). */
export function requireNoBody(input: unknown, carried: boolean): void {
  if (!carried || (isPlainObject(input) && Object.keys(input).length === 0)) return;
  throw invalid([{ pointer: '', detail: 'this request takes no body' }]);
}

/**
 * `GET /me/history` query: `limit` 1–200 (default 50), `requirement`, `cursor`. Problems are
 * addressed as `/limit`, `/requirement`, `/cursor`; other parameters are ignored.
 */
export function parseHistoryQuery(query: Record<string, unknown>): HistoryOptions {
  const problems: InputProblem[] = [];
  const options: HistoryOptions = {};
  const { limit, requirement, cursor } = query;
  if (limit !== undefined) {
    if (typeof limit === 'string' && /^[0-9]{1,3}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 200) {
      options.limit = Number(limit);
    } else problems.push({ pointer: '/limit', detail: 'must be an integer from 1 to 200' });
  }
  if (requirement !== undefined) {
    if (typeof requirement === 'string' && REQUIREMENT_ID.test(requirement)) options.requirement = requirement;
    else problems.push({ pointer: '/requirement', detail: 'must be a requirement id' });
  }
  if (cursor !== undefined) {
    if (typeof cursor === 'string' && cursor !== '') options.cursor = cursor;
    else problems.push({ pointer: '/cursor', detail: 'must be a cursor returned as nextCursor' });
  }
  if (problems.length > 0) throw invalid(problems);
  return options;
}
