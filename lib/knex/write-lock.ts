import type { Knex } from 'knex';

/**
 * Opens a transaction that reads before it writes with a write matching no row of `table`.
 *
 * On SQLite that takes the write lock first, waiting out `busy_timeout` while another process
 * holds it. Reading first would pin a snapshot; once another process commits past it, the
 * transaction's first write fails at once with `SQLITE_BUSY` (waiting cannot help a stale
 * snapshot). On PostgreSQL it does nothing.
 */
export async function writeLockFirst(trx: Knex.Transaction, table: string): Promise<void> {
  await trx(table).whereRaw('1 = 0').delete();
}
