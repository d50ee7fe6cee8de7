import { ConsentError } from '../errors';
import type { State } from '../types';
import { STATES } from '../vocabulary';

/** Options of `consent.audience()`. */
export interface AudienceOptions {
  /**
   * List the subjects for whom processing is allowed (`true`) or not (`false`) now, with the
   * guard's rules (lawful basis, expiry, version). Without `state` it defaults to `true`; with
   * `state`, only when given.
   */
  allowed?: boolean | undefined;
  /** List only the subjects in this state (or one of these states). */
  state?: State | State[] | undefined;
  /** Judge as for a request carrying `Sec-GPC: 1`. @default false */
  gpc?: boolean | undefined;
  /** Subjects read per storage query, 1–10000. @default 1000 */
  batchSize?: number | undefined;
}

/** `AudienceOptions` checked, with the defaults applied. */
export interface AudienceFilter {
  allowed: boolean | null;
  states: ReadonlySet<State> | null;
  gpc: boolean;
  batchSize: number;
}

const KNOWN = ['allowed', 'state', 'gpc', 'batchSize'];

function invalid(detail: string): ConsentError {
  return new ConsentError('invalid_argument', `audience(): ${detail}`);
}

/**
 * Checks the options of `audience()`.
 * @throws ConsentError `invalid_argument` naming the option.
 */
export function audienceFilter(options: unknown): AudienceFilter {
  if (options === undefined) return { allowed: true, states: null, gpc: false, batchSize: 1000 };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalid('the options must be an object');
  const o = options as Record<string, unknown>;
  const unknown = Object.keys(o).find((key) => !KNOWN.includes(key));
  if (unknown !== undefined) throw invalid(`unknown option "${unknown}" (only ${KNOWN.join(', ')})`);
  if (o.allowed !== undefined && typeof o.allowed !== 'boolean') throw invalid('"allowed" must be a boolean');
  if (o.gpc !== undefined && typeof o.gpc !== 'boolean') throw invalid('"gpc" must be a boolean');
  const batchSize = o.batchSize ?? 1000;
  if (typeof batchSize !== 'number' || !Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw invalid('"batchSize" must be an integer from 1 to 10000');
  }
  let states: Set<State> | null = null;
  if (o.state !== undefined) {
    const list: unknown[] = Array.isArray(o.state) ? o.state : [o.state];
    if (list.length === 0 || list.some((s) => !(STATES as readonly unknown[]).includes(s))) {
      throw invalid(`"state" must be one of ${STATES.join(', ')}, or a non-empty array of them`);
    }
    states = new Set(list as State[]);
  }
  const allowed = o.allowed ?? (states === null ? true : null);
  return { allowed: allowed, states, gpc: o.gpc === true, batchSize };
}
