import type { Knex } from 'knex';

/** Counts the statements a Knex instance sends whose SQL matches `pattern`, until `stop()`. */
export function countStatements(knex: Knex, pattern: RegExp): { readonly n: number; stop(): void } {
  const counter = { n: 0, stop: () => knex.removeListener('query', listener) };
  const listener = (query: { sql: string }) => {
    if (pattern.test(query.sql)) counter.n += 1;
  };
  knex.on('query', listener);
  return counter;
}

/** The statements matching `pattern` that `knex` sent while `step` ran. */
export async function statementsDuring(knex: Knex, pattern: RegExp, step: () => Promise<void>): Promise<string[]> {
  const queries: string[] = [];
  const listener = (query: { sql: string }) => {
    if (pattern.test(query.sql)) queries.push(query.sql);
  };
  knex.on('query', listener);
  try {
    await step();
  } finally {
    knex.removeListener('query', listener);
  }
  return queries;
}
