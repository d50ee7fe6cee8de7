import { canonicalJson } from './canonical-json';
import type { ChainedFields, HeadFields, PersonalFields } from './fields';

/*
 * Canonical JSON of the fixed-shape records the chain hashes, written out member by member in
 * the order RFC 8785 sorts their keys. Verification hashes every stored event, so the generic
 * serialiser (key sort, arrays, closures per member) was most of its cost. The bytes are the
 * same as `canonicalJson` of an object with exactly these members: a string, a finite number,
 * a boolean or null is printed by `JSON.stringify` in both. Any other value (a wrong type from
 * a tampered or foreign row, undefined, NaN) falls back to `canonicalJson` itself, so it gets
 * the very same output or error as before. The generic calls list every member of their type
 * (`satisfies`), so a field added to a record fails to compile here until it is printed.
 */

// What JSON.stringify escapes in a string: quote, backslash, controls and (lone) surrogates.
// eslint-disable-next-line no-control-regex -- the controls are exactly what must be escaped
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON. */
function quoted(value: string): string {
  // A string without anything to escape prints as itself in quotes: hex hashes, ids, names.
  return ESCAPED.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** One member's value as canonical JSON, or undefined when only the generic path may print it. */
function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return quoted(value);
  if (value === null) return 'null';
  // JSON.stringify prints a finite number as String does (-0 as 0).
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return undefined;
}

// Members most events repeat (names, a chain's key, a common personal digest), printed once.
const MEMO_SIZE = 4096;
const printed = new Map<string, string>();

/** `scalar` for members whose values repeat: a string is printed once, then looked up. */
function repeated(value: unknown): string | undefined {
  if (typeof value !== 'string') return scalar(value);
  let json = printed.get(value);
  if (json === undefined) {
    json = quoted(value);
    if (printed.size >= MEMO_SIZE) printed.clear();
    printed.set(value, json);
  }
  return json;
}

/**
 * `canonicalJson` of the chained fields of an event (exactly these eleven members, and `locale`
 * when it is set), with `digest` as the personal digest (a stored null stands for the digest of
 * no personal fields).
 */
export function chainedFieldsJson(f: ChainedFields, digest: string): string {
  const action = repeated(f.action);
  const at = scalar(f.at);
  const chain = repeated(f.chain);
  const id = scalar(f.id);
  const personalDigest = repeated(digest);
  const prevId = scalar(f.prevId);
  const requirement = repeated(f.requirement);
  const seq = scalar(f.seq);
  const source = repeated(f.source);
  const state = repeated(f.state);
  const version = scalar(f.version);
  // An event without a locale has no such member: its bytes are those hashed before locales.
  const hasLocale = f.locale !== undefined && f.locale !== null;
  const locale = hasLocale ? repeated(f.locale) : '';
  if (action === undefined || at === undefined || chain === undefined || id === undefined || locale === undefined ||
    personalDigest === undefined || prevId === undefined || requirement === undefined || seq === undefined ||
    source === undefined || state === undefined || version === undefined) {
    return canonicalJson({
      action: f.action, at: f.at, chain: f.chain, id: f.id, ...(hasLocale ? { locale: f.locale } : {}), personalDigest: digest,
      prevId: f.prevId, requirement: f.requirement, seq: f.seq, source: f.source, state: f.state, version: f.version,
    } satisfies Record<Exclude<keyof ChainedFields, 'locale'>, unknown>);
  }
  return `{"action":${action},"at":${at},"chain":${chain},"id":${id},${hasLocale ? `"locale":${locale},` : ''}"personalDigest":${personalDigest},` +
    `"prevId":${prevId},"requirement":${requirement},"seq":${seq},"source":${source},"state":${state},"version":${version}}`;
}

/**
 * `canonicalJson` of an event's personal fields (exactly these five members, and `personalSalt`
 * when it is set: an event without one hashes exactly as before salts).
 */
export function personalFieldsJson(f: PersonalFields): string {
  const actor = scalar(f.actor);
  const data = scalar(f.data);
  const ip = scalar(f.ip);
  const note = scalar(f.note);
  const userAgent = scalar(f.userAgent);
  const salted = f.personalSalt !== undefined && f.personalSalt !== null;
  const salt = salted ? scalar(f.personalSalt) : '';
  if (actor === undefined || data === undefined || ip === undefined || note === undefined || userAgent === undefined || salt === undefined) {
    return canonicalJson({
      actor: f.actor, data: f.data, ip: f.ip, note: f.note, ...(salted ? { personalSalt: f.personalSalt } : {}), userAgent: f.userAgent,
    } satisfies Record<Exclude<keyof PersonalFields, 'personalSalt'>, unknown>);
  }
  return `{"actor":${actor},"data":${data},"ip":${ip},"note":${note},${salted ? `"personalSalt":${salt},` : ''}"userAgent":${userAgent}}`;
}

/** `canonicalJson` of a chain head's fields as sealed before release 2 (exactly these five members). */
export function headFieldsJson(f: HeadFields): string {
  const chain = scalar(f.chain);
  const erased = scalar(f.erased);
  const hash = scalar(f.hash);
  const id = scalar(f.id);
  const seq = scalar(f.seq);
  if (chain === undefined || erased === undefined || hash === undefined || id === undefined || seq === undefined) {
    return canonicalJson({ chain: f.chain, erased: f.erased, hash: f.hash, id: f.id, seq: f.seq } satisfies Record<keyof HeadFields, unknown>);
  }
  return `{"chain":${chain},"erased":${erased},"hash":${hash},"id":${id},"seq":${seq}}`;
}
