import type { Knex } from 'knex';
import type { Statement } from './bulk-sql';
import { clientOf, isSynchronousDriver } from './migrate';

/** An SQLite connection of either driver, as far as scripts use it. */
export type ScriptConnection = { exec(sql: string, done?: (error: Error | null) => void): unknown };

/**
 * Whether values can be written into a statement's text with the same result as binding them:
 * text without U+0000 (a script's text ends there), finite numbers, booleans, null and bytes.
 * Anything else (a Date, a bigint, NaN…) is bound instead.
 */
export function inlinable(bindings: readonly unknown[]): boolean {
  return bindings.every(
    (v) => v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && !v.includes('\u0000')) || Buffer.isBuffer(v),
  );
}

/**
 * `statements` as one SQLite script, their values written into the text as Knex quotes them
 * (check `inlinable` first). Knex's `query` listeners (logging, tests counting statements) are
 * told of each statement, as if it had been sent alone.
 */
export function scriptOf(knex: Knex, statements: readonly Statement[]): string {
  const client = clientOf(knex) as unknown as { emit(event: 'query', query: { sql: string; bindings: unknown[]; method: string }): void };
  for (const { sql, bindings } of statements) client.emit('query', { sql, bindings, method: 'raw' });
  return statements.map(({ sql, bindings }) => (bindings.length > 0 ? knex.raw(sql, bindings as Knex.RawBinding[]).toQuery() : sql)).join(';\n');
}

/**
 * Runs an SQLite script on `connection` through either driver's `exec`, which stops at the first
 * failing statement; rejects with that statement's error.
 */
export async function execScript(knex: Knex, connection: ScriptConnection, sql: string): Promise<void> {
  if (isSynchronousDriver(knex)) {
    connection.exec(sql);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    connection.exec(sql, (error) => { if (error) reject(error); else resolve(); });
  });
}
