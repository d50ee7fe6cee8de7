import { ConsentConfigError } from '../errors';

/** What a table prefix may be: it names tables, indexes and a PostgreSQL notification channel. */
export const TABLE_PREFIX_RULE = /^[a-z][a-z0-9_]{0,30}$/;

/**
 * `prefix` (the default when none is given), once it follows `TABLE_PREFIX_RULE`.
 * @throws ConsentConfigError `invalid_option` naming `where` (the function or option given it).
 */
export function checkedTablePrefix(prefix: unknown, where: string): string {
  const value = prefix ?? 'consent_';
  if (typeof value !== 'string' || !TABLE_PREFIX_RULE.test(value)) {
    throw new ConsentConfigError('invalid_option', `${where}: tablePrefix must match ${String(TABLE_PREFIX_RULE)}`, { extensions: { option: 'tablePrefix' } });
  }
  return value;
}
