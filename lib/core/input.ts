import { ConsentError } from '../errors';
import type { Decision, RecordMeta, Source } from '../types';
import { inVisitorNamespace, isVisitorId, VISITOR_PREFIX } from './visitor-id';
import { isLocaleTag } from '../i18n/negotiate';
import { atMostCharacters, storableText } from '../characters';
import { escapePointer } from '../json-pointer';
import { SOURCES } from '../vocabulary';

/** One problem in a caller's input, addressed by a JSON Pointer (RFC 6901). */
export interface InputProblem {
  pointer: string;
  detail: string;
}

export const MAX_BATCH = 100;
export const MAX_NOTE = 500;
/** The longest `context` (where the question was asked), in characters. */
export const MAX_CONTEXT = 200;
export const MAX_DATA_BYTES = 4096;
export const MAX_DATA_DEPTH = 8;
/** The longest subject id, in characters (code points: `atMostCharacters`). */
export const MAX_SUBJECT_LENGTH = 256;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** What a subject id is, for messages. */
export const SUBJECT_RULE = 'a string of 1–256 characters of well-formed Unicode, or a safe integer';

/**
 * Subject ids: a string of 1–256 characters (compared exactly) or a safe integer. A string must
 * be well-formed Unicode: its pseudonym is keyed over its UTF-8 bytes, where every lone
 * surrogate becomes U+FFFD, so "a\uD800" and "a\uDC00" would be one subject.
 */
export function normalizeSubject(value: unknown): string | null {
  if (typeof value === 'string') return value.length >= 1 && atMostCharacters(value, MAX_SUBJECT_LENGTH) && value.isWellFormed() ? value : null;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return null;
}

/**
 * Why host code may not use `subject`, or null when it may. Ids starting with `visitor:` name
 * visitors: a visitor's own id (as cookies, `link()` and change events give it) is accepted, so
 * that code holding one can read or act on that visitor; any other id there is a host id
 * colliding with the visitors' namespace.
 */
export function reservedSubject(subject: string): string | null {
  if (!inVisitorNamespace(subject) || isVisitorId(subject)) return null;
  return `ids starting with "${VISITOR_PREFIX}" are reserved for visitors ("${VISITOR_PREFIX}" and 22 characters); give your own ids another form`;
}

/** Like `normalizeSubject`, throwing `invalid_subject` (400) for library callers. */
export function requireSubject(value: unknown): string {
  const subject = normalizeSubject(value);
  if (subject === null) throw new ConsentError('invalid_subject', `a subject id is ${SUBJECT_RULE}`);
  const reserved = reservedSubject(subject);
  if (reserved !== null) throw new ConsentError('invalid_subject', reserved);
  return subject;
}

/**
 * The GPC signal of a lookup's options (`{ gpc?: boolean }`), as given: anything else, such as
 * the raw `Sec-GPC` header value '1', throws `invalid_argument`, for a signal misread as absent
 * would allow what the person objected to.
 */
export function requireGpcOption(options: unknown, what: string): boolean {
  if (options === undefined) return false;
  const gpc = isPlainObject(options) ? options.gpc : undefined;
  if (!isPlainObject(options) || Object.keys(options).some((key) => key !== 'gpc') || (gpc !== undefined && typeof gpc !== 'boolean')) {
    throw new ConsentError('invalid_argument', `${what}: the only option is "gpc", a boolean`);
  }
  return gpc === true;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkTree(value: unknown, pointer: string, depth: number, problems: InputProblem[]): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) problems.push({ pointer, detail: 'numbers must be finite' });
    return;
  }
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainObject(value)) {
    problems.push({ pointer, detail: 'only JSON values are allowed' });
    return;
  }
  if (depth > MAX_DATA_DEPTH) {
    problems.push({ pointer, detail: `data may nest at most ${String(MAX_DATA_DEPTH)} levels` });
    return;
  }
  // Own keys, including a literal "__proto__" that JSON.parse creates as an own property.
  for (const key of Object.keys(value as object)) {
    const child = `${pointer}/${escapePointer(key)}`;
    if (!isArray && FORBIDDEN_KEYS.has(key)) {
      problems.push({ pointer: child, detail: `the key "${key}" is not allowed` });
      continue;
    }
    checkTree((value as Record<string, unknown>)[key], child, depth + 1, problems);
  }
}

/** Checks `data`: a plain JSON object, ≤ 4096 bytes serialised, ≤ 8 levels, no prototype keys. */
export function dataProblems(value: unknown, pointer = '/data'): InputProblem[] {
  if (value === null || value === undefined) return [];
  if (!isPlainObject(value)) return [{ pointer, detail: 'must be a JSON object' }];
  const problems: InputProblem[] = [];
  checkTree(value, pointer, 1, problems);
  if (problems.length === 0 && Buffer.byteLength(JSON.stringify(value), 'utf8') > MAX_DATA_BYTES) {
    problems.push({ pointer, detail: `must serialise to at most ${String(MAX_DATA_BYTES)} bytes` });
  }
  return problems;
}

export function noteProblems(value: unknown, pointer = '/note'): InputProblem[] {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'string') return [{ pointer, detail: 'must be a string' }];
  if (!atMostCharacters(value, MAX_NOTE)) return [{ pointer, detail: `must be at most ${String(MAX_NOTE)} characters` }];
  return storableText(value) ? [] : [{ pointer, detail: UNSTORABLE }];
}

// The history would not say what was sent (see storableText), so such text is refused.
const UNSTORABLE = 'must be well-formed Unicode without U+0000';

/** Checks a `context`: a string of 1–200 characters that storage keeps unchanged, or nothing. */
export function contextProblems(value: unknown, pointer = '/context'): InputProblem[] {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'string' || value.length === 0 || !atMostCharacters(value, MAX_CONTEXT)) {
    return [{ pointer, detail: `must be a string of 1–${String(MAX_CONTEXT)} characters` }];
  }
  return storableText(value) ? [] : [{ pointer, detail: UNSTORABLE }];
}

/** The parsed form of one decision. */
export interface ParsedDecision {
  id: string;
  decision: Decision;
  version: number | undefined;
  /** The locale of the text shown, as sent (checked against the version's locales later). */
  locale?: string;
}

/** Parses a `{ [id]: decision | { decision, version } }` map; problems instead of throwing. */
export function parseDecisions(value: unknown, pointer: string): { decisions: ParsedDecision[]; problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  const decisions: ParsedDecision[] = [];
  if (!isPlainObject(value)) return { decisions, problems: [{ pointer, detail: 'must be an object of decisions' }] };
  const ids = Object.keys(value);
  if (ids.length === 0 || ids.length > MAX_BATCH) {
    problems.push({ pointer, detail: `must hold 1 to ${String(MAX_BATCH)} decisions` });
  }
  for (const id of ids) {
    const at = `${pointer}/${escapePointer(id)}`;
    const entry = value[id];
    const parsed = parseOne(entry, at, problems);
    if (parsed) decisions.push({ id, ...parsed });
  }
  return { decisions, problems };
}

function parseOne(entry: unknown, at: string, problems: InputProblem[]): Omit<ParsedDecision, 'id'> | null {
  if (entry === 'granted' || entry === 'denied') return { decision: entry, version: undefined };
  if (!isPlainObject(entry)) {
    problems.push({ pointer: at, detail: 'must be "granted", "denied" or { decision, version?, locale? }' });
    return null;
  }
  const extra = Object.keys(entry).filter((key) => key !== 'decision' && key !== 'version' && key !== 'locale');
  for (const key of extra) problems.push({ pointer: `${at}/${escapePointer(key)}`, detail: 'unknown field' });
  if (entry.decision !== 'granted' && entry.decision !== 'denied') {
    problems.push({ pointer: `${at}/decision`, detail: 'must be "granted" or "denied"' });
    return null;
  }
  const version = entry.version;
  if (version !== undefined && (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)) {
    problems.push({ pointer: `${at}/version`, detail: 'must be a positive integer' });
    return null;
  }
  const locale = entry.locale;
  if (locale !== undefined && !isLocaleTag(locale)) {
    problems.push({ pointer: `${at}/locale`, detail: 'must be a language tag such as "de"' });
    return null;
  }
  return extra.length > 0 ? null : { decision: entry.decision, version, ...(locale === undefined ? {} : { locale }) };
}

/** Validated meta, with `data` serialised. */
export interface ParsedMeta {
  source: Source;
  actor: string | null;
  note: string | null;
  data: string | null;
  context: string | null;
}

/** What is wrong with an actor (who recorded a decision or asked for an erasure): 1–256 characters that storage keeps as given. */
export function actorProblems(actor: unknown, pointer: string): InputProblem[] {
  if (typeof actor !== 'string' || actor.length === 0 || !atMostCharacters(actor, 256)) return [{ pointer, detail: 'must be a string of 1–256 characters' }];
  return storableText(actor) ? [] : [{ pointer, detail: UNSTORABLE }];
}

export function parseMeta(meta: unknown): { meta: ParsedMeta; problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  const empty: ParsedMeta = { source: 'app', actor: null, note: null, data: null, context: null };
  if (meta === undefined || meta === null) return { meta: empty, problems };
  if (!isPlainObject(meta)) return { meta: empty, problems: [{ pointer: '/meta', detail: 'must be an object' }] };
  const m = meta as RecordMeta;
  for (const key of Object.keys(m)) {
    if (!['source', 'actor', 'note', 'data', 'context'].includes(key)) problems.push({ pointer: `/meta/${escapePointer(key)}`, detail: 'unknown field' });
  }
  const source = m.source ?? 'app';
  if (!SOURCES.includes(source)) problems.push({ pointer: '/meta/source', detail: `must be one of ${SOURCES.join(', ')}` });
  const actor = m.actor ?? null;
  if (actor !== null) problems.push(...actorProblems(actor, '/meta/actor'));
  problems.push(...noteProblems(m.note, '/meta/note'), ...dataProblems(m.data, '/meta/data'), ...contextProblems(m.context, '/meta/context'));
  return {
    meta: { source, actor, note: m.note ?? null, data: m.data ? JSON.stringify(m.data) : null, context: m.context ?? null },
    problems,
  };
}

/** Throws `invalid_argument` listing every problem, for library callers. */
export function assertNoProblems(problems: InputProblem[]): void {
  if (problems.length === 0) return;
  throw new ConsentError(
    'invalid_argument',
    problems.map((p) => `${p.pointer}: ${p.detail}`).join('; '),
    { extensions: { errors: problems } },
  );
}
