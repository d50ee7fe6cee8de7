import type { EventIdCodec } from '../audit/event-ids';
import type { InputProblem } from '../core/input';
import { ConsentError } from '../errors';
import type { ExportFilters as AuditFilters, ExportFormat } from '../io/event-export';
import type { Action } from '../types';

const REQUIREMENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ACTIONS: readonly Action[] = ['grant', 'deny', 'withdraw', 'request', 'confirm', 'expire', 'erase'];

function parseInstant(value: unknown): number | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function invalid(problems: InputProblem[]): ConsentError {
  return new ConsentError('invalid_body', problems.map((p) => `${p.pointer}: ${p.detail}`).join('; '), {
    extensions: { errors: problems },
  });
}

function filters(query: Record<string, unknown>, problems: InputProblem[]): AuditFilters {
  const out: AuditFilters = {};
  const { requirement, action, from, to } = query;
  if (requirement !== undefined) {
    if (typeof requirement === 'string' && REQUIREMENT_ID.test(requirement)) out.requirement = requirement;
    else problems.push({ pointer: '/requirement', detail: 'must be a requirement id' });
  }
  if (action !== undefined) {
    if (typeof action === 'string' && (ACTIONS as readonly string[]).includes(action)) out.action = action as Action;
    else problems.push({ pointer: '/action', detail: `must be one of ${ACTIONS.join(', ')}` });
  }
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value === undefined) continue;
    const ms = parseInstant(value);
    if (ms === null) problems.push({ pointer: `/${name}`, detail: 'must be an ISO-8601 date or date-time' });
    else out[name] = ms;
  }
  if (out.from !== undefined && out.to !== undefined && out.from > out.to) {
    problems.push({ pointer: '/to', detail: 'must not be before from' });
  }
  return out;
}

/**
 * `GET /admin/events` query: `requirement`, `action`, `from` (inclusive), `to` (exclusive),
 * `limit` 1–200 (default 50), `cursor`. Other parameters are ignored. The cursor is the public
 * id of the previous page's last event (`eventIds` turns it back into the stored one).
 * @throws ConsentError `invalid_body` with a pointer per bad parameter.
 */
export function parseAuditQuery(query: Record<string, unknown>, eventIds: EventIdCodec): AuditFilters & { limit: number; cursor?: string } {
  const problems: InputProblem[] = [];
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

/**
 * `GET /admin/export` query: `format` `csv` (default) or `ndjson`, and the same filters as
 * `/admin/events`.
 * @throws ConsentError `invalid_body` with a pointer per bad parameter.
 */
export function parseExportQuery(query: Record<string, unknown>): AuditFilters & { format: ExportFormat } {
  const problems: InputProblem[] = [];
  const parsed = filters(query, problems);
  const format = query.format ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson') problems.push({ pointer: '/format', detail: 'must be csv or ndjson' });
  if (problems.length > 0) throw invalid(problems);
  return { ...parsed, format: format as ExportFormat };
}
