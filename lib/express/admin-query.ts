import { REQUIREMENT_ID } from '../registry/validate';
import type { Request, RequestHandler } from 'express';
import type { EventIdCodec } from '../audit/event-ids';
import type { AudienceFilter } from '../core/audience-filter';
import { contextProblems, type InputProblem } from '../core/input';
import { ACTIONS, SOURCES, STATES } from '../vocabulary';
import { ConsentError } from '../errors';
import type { ExportFilters as AuditFilters, ExportFormat } from '../io/event-export';
import type { Action, Source, State } from '../types';
import { atMostCharacters, storableText } from '../characters';
import { escapePointer } from '../json-pointer';
import { INSTANT_RULE, parseInstant } from '../instant';

const FILTERS = ['requirement', 'action', 'source', 'context', 'actor', 'from', 'to'];

function invalid(problems: InputProblem[]): ConsentError {
  return new ConsentError('invalid_body', problems.map((p) => `${p.pointer}: ${p.detail}`).join('; '), {
    extensions: { errors: problems },
  });
}

/** A problem for each query parameter not among `known`: a misspelt filter must not widen a search silently. */
function unknownParameters(query: Record<string, unknown>, known: readonly string[], problems: InputProblem[]): void {
  for (const name of Object.keys(query)) {
    if (!known.includes(name)) problems.push({ pointer: `/${escapePointer(name)}`, detail: `unknown query parameter "${name}" (only ${known.length > 0 ? known.join(', ') : 'none'})` });
  }
}

/**
 * Refuses every query parameter not among `known` (admin routes never ignore one).
 * @throws ConsentError `invalid_body` naming each unknown parameter.
 */
export function onlyParameters(query: Record<string, unknown>, known: readonly string[]): void {
  const problems: InputProblem[] = [];
  unknownParameters(query, known, problems);
  if (problems.length > 0) throw invalid(problems);
}

/** `text` decoded as a query string's name or value (`+` is a space), or null when it is not valid percent-encoded UTF-8. */
function decodedOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/**
 * Whether the parsed query kept the parameter sent as `name`: under its own name (Express 5), or
 * under the part before a bracket (Express 4's `qs` reads `a[b]=1` as `a`). `qs` drops some
 * names altogether (`__proto__`): the route's own check never sees those.
 */
function keptByParser(query: Record<string, unknown>, name: string): boolean {
  const bracket = name.indexOf('[');
  return Object.hasOwn(query, name) || (bracket > 0 && Object.hasOwn(query, name.slice(0, bracket)));
}

/**
 * Refuses a query whose names or values are not valid percent-encoded UTF-8 (`?subjectId=%F0`):
 * Express's parsers read those as U+FFFD or keep them as sent, either way another id than any
 * that was meant. Refuses too a parameter the query parser dropped (`?__proto__=1` under
 * Express 4), which no route takes: it is unknown under either Express.
 *
 * @throws ConsentError `invalid_body` with a pointer per parameter.
 */
export function requireDecodableQuery(req: Request): void {
  const at = req.originalUrl.indexOf('?');
  const problems: InputProblem[] = [];
  if (at >= 0) {
    for (const pair of req.originalUrl.slice(at + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const decoded = decodedOrNull(name);
      if (decoded === null || (eq >= 0 && decodedOrNull(pair.slice(eq + 1)) === null)) {
        problems.push({ pointer: `/${escapePointer(decoded ?? name)}`, detail: 'is not valid percent-encoded UTF-8' });
      } else if (!keptByParser(req.query, decoded)) {
        problems.push({ pointer: `/${escapePointer(decoded)}`, detail: `unknown query parameter "${decoded}"` });
      }
    }
  }
  if (problems.length > 0) throw invalid(problems);
}

/** `requireDecodableQuery` as middleware. */
export const decodableQuery: RequestHandler = (req, _res, next) => {
  try {
    requireDecodableQuery(req);
    next();
  } catch (error) {
    next(error);
  }
};

/** Middleware refusing the query parameters a route does not take (none by default): 400 `invalid_body` naming them. */
export const onlyQuery = (...known: string[]): RequestHandler => (req, _res, next) => {
  try {
    onlyParameters(req.query, known);
    next();
  } catch (error) {
    next(error);
  }
};

function filters(query: Record<string, unknown>, problems: InputProblem[]): AuditFilters {
  const out: AuditFilters = {};
  const { requirement, action, source, context, actor, from, to } = query;
  if (requirement !== undefined) {
    if (typeof requirement === 'string' && REQUIREMENT_ID.test(requirement)) out.requirement = requirement;
    else problems.push({ pointer: '/requirement', detail: 'must be a requirement id' });
  }
  if (action !== undefined) {
    if (typeof action === 'string' && (ACTIONS as readonly string[]).includes(action)) out.action = action as Action;
    else problems.push({ pointer: '/action', detail: `must be one of ${ACTIONS.join(', ')}` });
  }
  if (source !== undefined) {
    if (typeof source === 'string' && (SOURCES as readonly string[]).includes(source)) out.source = source as Source;
    else problems.push({ pointer: '/source', detail: `must be one of ${SOURCES.join(', ')}` });
  }
  if (context !== undefined) {
    const found = contextProblems(context);
    if (found.length === 0) out.context = context as string;
    else problems.push(...found);
  }
  if (actor !== undefined) {
    if (typeof actor === 'string' && actor.length >= 1 && atMostCharacters(actor, 256) && storableText(actor)) out.actor = actor;
    else problems.push({ pointer: '/actor', detail: 'must be a string of 1–256 characters' });
  }
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value === undefined) continue;
    // Stored times are whole milliseconds: one at .000 is before .0005, for `from` and `to` alike.
    const ms = parseInstant(value, true);
    if (ms === null) problems.push({ pointer: `/${name}`, detail: `must be ${INSTANT_RULE}` });
    else out[name] = ms;
  }
  if (out.from !== undefined && out.to !== undefined && out.from > out.to) {
    problems.push({ pointer: '/to', detail: 'must not be before from' });
  }
  return out;
}

/**
 * `GET /admin/events` query: `requirement`, `action`, `source`, `context`, `actor`, `from`
 * (inclusive), `to` (exclusive), `limit` 1–200 (default 50), `cursor`. The cursor is the public
 * id of the previous page's last event (`eventIds` turns it back into the stored one).
 * @throws ConsentError `invalid_body` with a pointer per bad or unknown parameter.
 */
export function parseAuditQuery(query: Record<string, unknown>, eventIds: EventIdCodec): AuditFilters & { limit: number; cursor?: string } {
  const problems: InputProblem[] = [];
  unknownParameters(query, [...FILTERS, 'limit', 'cursor'], problems);
  const out: AuditFilters & { limit: number; cursor?: string } = { ...filters(query, problems), limit: 50 };
  const { limit, cursor } = query;
  if (limit !== undefined) {
    if (typeof limit === 'string' && /^[0-9]{1,3}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 200) out.limit = Number(limit);
    else problems.push({ pointer: '/limit', detail: 'must be an integer from 1 to 200' });
  }
  if (cursor !== undefined) {
    const id = typeof cursor === 'string' ? eventIds.decode(cursor) : null;
    if (id === null) problems.push({ pointer: '/cursor', detail: 'must be a cursor returned as nextCursor' });
    else out.cursor = id;
  }
  if (problems.length > 0) throw invalid(problems);
  return out;
}

function parseFormat(query: Record<string, unknown>, problems: InputProblem[]): ExportFormat {
  const format = query.format ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson') problems.push({ pointer: '/format', detail: 'must be csv or ndjson' });
  return format as ExportFormat;
}

/**
 * `GET /admin/export` query: `format` `csv` (default) or `ndjson`, and the same filters as
 * `/admin/events`.
 * @throws ConsentError `invalid_body` with a pointer per bad or unknown parameter.
 */
export function parseExportQuery(query: Record<string, unknown>): AuditFilters & { format: ExportFormat } {
  const problems: InputProblem[] = [];
  unknownParameters(query, [...FILTERS, 'format'], problems);
  const parsed = filters(query, problems);
  const format = parseFormat(query, problems);
  if (problems.length > 0) throw invalid(problems);
  return { ...parsed, format };
}

/**
 * `GET /admin/requirements/:id/subjects` query: `allowed` (`true` or `false`; default `true`
 * without `state`), `state` (one state, or several separated by commas), `gpc` (`true` or
 * `false`), `format` `csv` (default) or `ndjson`.
 * @throws ConsentError `invalid_body` with a pointer per bad or unknown parameter.
 */
export function parseAudienceQuery(query: Record<string, unknown>): { filter: AudienceFilter; format: ExportFormat } {
  const problems: InputProblem[] = [];
  unknownParameters(query, ['allowed', 'state', 'gpc', 'format'], problems);
  const flag = (name: 'allowed' | 'gpc'): boolean | null => {
    const value = query[name];
    if (value === undefined) return null;
    if (value === 'true' || value === 'false') return value === 'true';
    problems.push({ pointer: `/${name}`, detail: 'must be true or false' });
    return null;
  };
  const allowed = flag('allowed');
  const gpc = flag('gpc');
  let states: Set<State> | null = null;
  if (query.state !== undefined) {
    const list = typeof query.state === 'string' ? query.state.split(',') : [];
    if (list.length === 0 || list.some((s) => !(STATES as readonly string[]).includes(s))) {
      problems.push({ pointer: '/state', detail: `must be one or more of ${STATES.join(', ')}, separated by commas` });
    } else states = new Set(list as State[]);
  }
  const format = parseFormat(query, problems);
  if (problems.length > 0) throw invalid(problems);
  return { filter: { allowed: allowed ?? (states === null ? true : null), states, gpc: gpc === true, batchSize: 1000 }, format };
}
