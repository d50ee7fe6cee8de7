import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

/*
 * The thread of `ThreadPages`: its own read-only connection to an SQLite file through
 * `better-sqlite3` (the very module file the application's Knex loaded, and its `nativeBinding`
 * if it named one, so that one copy of SQLite keeps the process's file locks), answering each statement with its single value (a page of
 * rows as one JSON text) or with the error's message.
 */

interface Statement {
  pluck(): Statement;
  get(...bindings: unknown[]): unknown;
}
interface Database {
  prepare(sql: string): Statement;
  pragma(sql: string): unknown;
}
type DatabaseClass = new (filename: string, options: { readonly: boolean; fileMustExist: boolean; nativeBinding?: string }) => Database;

export interface PageRequest {
  id: number;
  sql: string;
  bindings: readonly unknown[];
}

const { driver, filename, nativeBinding, pragmas } = workerData as { driver: string; filename: string; nativeBinding?: string; pragmas?: readonly string[] };
const Database = createRequire(driver)(driver) as DatabaseClass;
const db = new Database(filename, { readonly: true, fileMustExist: true, nativeBinding });
for (const pragma of ['busy_timeout = 5000', ...(pragmas ?? [])]) db.pragma(pragma);
// The first message: the database is open (a failure to open is the thread's error).
parentPort?.postMessage({ opened: true });

// Statements by text: a scan sends the same few statements page after page. Kept few.
const statements = new Map<string, Statement>();
const STATEMENTS = 32;

function statement(sql: string): Statement {
  let found = statements.get(sql);
  if (found === undefined) {
    if (statements.size >= STATEMENTS) statements.clear();
    found = db.prepare(sql).pluck();
    statements.set(sql, found);
  }
  return found;
}

// A structured clone turns a Buffer into a Uint8Array, which the driver does not bind as a blob.
const binding = (value: unknown): unknown =>
  value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;

parentPort?.on('message', (request: PageRequest) => {
  try {
    const page = statement(request.sql).get(...request.bindings.map(binding));
    parentPort?.postMessage({ id: request.id, page });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
