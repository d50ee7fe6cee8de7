import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { migrate } from '../../lib/index';
import { ADVISORY_KEY } from '../../lib/knex/migrate';
import { MIGRATION_NAMES } from '../../lib/knex/migrations/index';
import { createPgDatabase, pgKnexConfig } from '../helpers/databases';
import { describePgBouncer, startPgBouncer, type PgBouncer } from '../helpers/pgbouncer';

const MIGRATORS = 4;
// Every migrate() waiting for the lock holds a server connection meanwhile, and the one holding it
// needs another for its migrations: one more than the migrators, so that they share backends.
const POOL_SIZE = MIGRATORS + 1;

/** `promise`, or a rejection naming `what` when it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} did not finish within ${String(ms / 1000)} s (an advisory lock left behind?)`)); }, ms);
  });
  return Promise.race([promise, late]).finally(() => { clearTimeout(timer); });
}

/** The advisory locks held (or, with `granted` false, waited for) in the Knex instance's database. */
async function advisoryLocks(knex: Knex, granted = true): Promise<number> {
  const row = await knex.raw<{ rows: Array<{ n: number }> }>(
    "select count(*)::int as n from pg_locks where locktype = 'advisory' and granted = ? and database = (select oid from pg_database where datname = current_database())",
    [granted],
  );
  return row.rows[0]?.n ?? -1;
}

/** Until `check()` holds, looking every 20 ms for at most 10 s. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts PgBouncer in transaction mode with `poolSize` server connections before the suite's
 * tests and stops it after them, then runs the cleanups the tests pushed.
 */
function pooler(poolSize: number): { bouncer: () => PgBouncer; cleanups: Array<() => Promise<void>> } {
  let bouncer: PgBouncer | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  before(async () => {
    bouncer = await startPgBouncer({ poolMode: 'transaction', poolSize });
  });
  after(async () => {
    // PgBouncer goes first: its server connections close, with any lock they hold, and the pools
    // the tests opened then have nothing left waiting when they are destroyed.
    await bouncer?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return { bouncer: () => bouncer as PgBouncer, cleanups };
}

/** A fresh database, its name and a Knex instance connected to it directly, cleaned up after the suite. */
async function freshDatabase(cleanups: Array<() => Promise<void>>): Promise<{ name: string; direct: Knex }> {
  const database = await createPgDatabase();
  cleanups.push(database.drop);
  const direct = knexFactory(pgKnexConfig(database.url));
  cleanups.push(() => direct.destroy());
  return { name: new URL(database.url).pathname.slice(1), direct };
}

describePgBouncer('migrate() through PgBouncer in transaction mode', function (this: Mocha.Suite) {
  this.timeout(120_000);

  describe(`with ${String(POOL_SIZE)} server connections`, () => {
    const { bouncer, cleanups } = pooler(POOL_SIZE);

    it(`succeeds in ${String(MIGRATORS)} pools migrating at once, and leaves no lock behind`, async () => {
      const { name, direct } = await freshDatabase(cleanups);
      const url = bouncer().url(name);
      // Pools of two take the lock on one of their own connections; pools of one through a second pool.
      const pooled = Array.from({ length: MIGRATORS }, (_, i) => knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: i % 2 === 0 ? 2 : 1 } }));
      cleanups.push(async () => { await Promise.all(pooled.map((knex) => knex.destroy())); });

      const ran = await Promise.all(pooled.map((knex) => within(migrate(knex), 30_000, 'a migrate() through PgBouncer')));
      expect(ran.flat(), 'each migration ran once').to.have.members([...MIGRATION_NAMES]);
      const applied: Array<{ name: string }> = await direct('consent_migrations').select('name').orderBy('id');
      expect(applied.map((row) => row.name)).to.deep.equal([...MIGRATION_NAMES]);
      expect(await advisoryLocks(direct), 'advisory locks held in the database afterwards').to.equal(0);

      expect(await within(migrate(direct), 10_000, 'a later direct migrate()')).to.deep.equal([]);
    });
  });

  describe('with 3 server connections, taken by other clients around the lock', () => {
    const { bouncer, cleanups } = pooler(3);

    // Deterministic: when migrate() gets the lock, the server connection it waited on goes
    // straight to a client queued for one, which keeps it until migrate() has returned; the only
    // server connection left for migrate() is another one. A lock of the session would stay behind
    // on the first; a lock of a transaction pins its server connection and is ended on it.
    it('frees the lock on the server connection that holds it', async () => {
      const { name, direct } = await freshDatabase(cleanups);
      const url = bouncer().url(name);
      const migrator = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
      const others = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 3 } });
      cleanups.push(async () => { await Promise.all([migrator, others].map((knex) => knex.destroy())); });
      // A pool cannot be destroyed while one of its transactions is open (a failed test's).
      const open: Knex.Transaction[] = [];
      cleanups.push(async () => {
        for (const trx of open) if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
      });
      const begin = async (knex: Knex): Promise<Knex.Transaction> => {
        const trx = await knex.transaction();
        open.push(trx);
        return trx;
      };

      const blocker = await begin(direct);
      await blocker.raw('select pg_advisory_xact_lock(?::bigint)', [ADVISORY_KEY]);
      const migrating = within(migrate(migrator), 30_000, 'a migrate() through PgBouncer');
      migrating.catch(() => undefined);
      await until('migrate() to wait for the lock', async () => (await advisoryLocks(direct, false)) === 1);
      // The other two server connections are taken, and a third client queues for one.
      const first = await begin(others);
      const second = await begin(others);
      const queued = begin(others);
      queued.catch(() => undefined);
      await until('a client queued in PgBouncer', async () => (await bouncer().waitingClients(name)) === 1);

      await blocker.commit();
      await until('migrate() to hold the lock', async () => (await advisoryLocks(direct, false)) === 0);
      await first.commit();
      await second.commit();
      expect(await migrating).to.have.members([...MIGRATION_NAMES]);
      await (await queued).commit();

      expect(await advisoryLocks(direct), 'advisory locks held in the database afterwards').to.equal(0);
      expect(await within(migrate(direct), 10_000, 'a later direct migrate()')).to.deep.equal([]);
    });
  });
});
