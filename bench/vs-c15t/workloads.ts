/** The side-by-side's three workloads, as each server spells them. */

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** `n` in c15t's id alphabet (base58: its subject ids must match `^sub_[base58]+$`). */
export function base58(n: number): string {
  let out = '';
  do {
    out = (BASE58[n % 58] as string) + out;
    n = Math.floor(n / 58);
  } while (n > 0);
  return out;
}

/** The c15t id of seeded subject `n` (express-consent's is `u<n>`). */
export const c15tSeeded = (n: number): string => `sub_S${base58(n)}`;

/** A POST /subjects body for a new c15t subject granting three purposes. */
export function c15tRecordBody(subjectId: string): string {
  return JSON.stringify({
    type: 'cookie_banner',
    subjectId,
    domain: 'example.com',
    preferences: { necessary: true, measurement: true, marketing: true },
    givenAt: Date.now(),
  });
}

/** A POST /me body granting the three requirements the seeded subjects granted. */
export function consentRecordBody(ids: readonly string[]): string {
  return JSON.stringify({ decisions: Object.fromEntries(ids.map((id) => [id, 'granted'])) });
}

/** One request of a workload: path, method, headers and body, for a subject number. */
export interface RequestShape {
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export type Workload = 'read one subject' | 'read a random subject' | 'write a new subject (3 decisions)';

export const WORKLOADS: Workload[] = ['read one subject', 'read a random subject', 'write a new subject (3 decisions)'];

/**
 * The request for `workload` on a server of `kind`: seeded subject `n` for reads, a subject
 * `fresh` (base58) never seen before for writes.
 */
export function requestFor(kind: 'c15t' | 'consent', workload: Workload, n: number, fresh: string, decided: readonly string[]): RequestShape {
  const write = workload === 'write a new subject (3 decisions)';
  if (kind === 'c15t') {
    if (write) return { path: '/api/c15t/subjects', method: 'POST', headers: { 'content-type': 'application/json' }, body: c15tRecordBody(`sub_${fresh}`) };
    return { path: `/api/c15t/subjects/${c15tSeeded(n)}`, method: 'GET', headers: {} };
  }
  if (write) return { path: '/consent/me', method: 'POST', headers: { 'content-type': 'application/json', 'x-user': fresh }, body: consentRecordBody(decided) };
  return { path: '/consent/me', method: 'GET', headers: { 'x-user': `u${String(n)}` } };
}
