/*
 * Locale negotiation: RFC 4647 "lookup" (§3.4) over a priority list of language ranges, the
 * way RFC 9110 §12.5.4 weighs `Accept-Language` by its q-values. Pure.
 */

/** A well-formed language tag or range as accepted here: BCP 47's shape, not its registry. */
export const LOCALE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

/** Whether `value` is a locale tag this library accepts (`en`, `de-CH`, `zh-Hant-TW`). */
export function isLocaleTag(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 35 && LOCALE_TAG.test(value);
}

/**
 * The language ranges of an `Accept-Language` header, most preferred first: ranges with a
 * higher q-value first, equal ones in the header's order; `q=0` ranges and malformed entries
 * are left out (a header the client garbled must not fail the request), and so is `*`, which
 * lookup treats as "the default".
 */
export function acceptedRanges(header: string | undefined): string[] {
  if (!header) return [];
  const ranges: Array<{ range: string; q: number; at: number }> = [];
  header.split(',').forEach((part, at) => {
    const [rawRange = '', ...params] = part.split(';').map((s) => s.trim());
    let q = 1;
    for (const param of params) {
      const match = /^q=(0(\.\d{0,3})?|1(\.0{0,3})?)$/i.exec(param);
      if (!match) return;
      q = Number(match[1]);
    }
    if (q > 0 && isLocaleTag(rawRange)) ranges.push({ range: rawRange, q, at });
  });
  return ranges.sort((a, b) => b.q - a.q || a.at - b.at).map((r) => r.range);
}

/**
 * RFC 4647 lookup: for each range in order, the available tag equal to it (ignoring case), else
 * to it with its last subtag removed (and a single-letter subtag left dangling with it), and so
 * on; the first match wins. `null` when no range matches.
 */
export function lookup(ranges: readonly string[], available: readonly string[]): string | null {
  const byLower = new Map(available.map((tag) => [tag.toLowerCase(), tag]));
  for (const range of ranges) {
    let candidate = range.toLowerCase();
    for (;;) {
      const found = byLower.get(candidate);
      if (found !== undefined) return found;
      const cut = candidate.lastIndexOf('-');
      if (cut < 0) break;
      candidate = candidate.slice(0, cut);
      if (/-[a-z0-9]$/.test(candidate)) candidate = candidate.slice(0, -2);
    }
  }
  return null;
}
