import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, KnexTracker, type Consent } from '../../lib/index';
import { ConsentMigrationSource } from '../../lib/knex/migrations/index';
import { loggedEvents } from '../../lib/testing/fixtures';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { describeEachDatabase } from '../helpers/each-database';

// Every table of a store written by the release before the global log (migrations 001 to 005):
// imports, grants with notes, a double opt-in confirmed, a GPC refusal, an erasure, a sweep.
const STORE = JSON.parse(readFileSync(new URL('./fixtures/v005-store.json', import.meta.url), 'utf8')) as Record<string, Array<Record<string, unknown>>>;
const SECRET = 'u'.repeat(32);
const EVENTS = 460;
const BOOLEANS = ['gpc_opt_in', 'expiry_recorded'];
const quiet = { warn() {}, error() {} };
const requirements = [
  { id: 'analytics', title: 'Analytics', description: 'Pages you open.', expiresAfterDays: 30 },
  { id: 'news', title: 'News', description: 'A monthly letter.', doubleOptIn: true },
  { id: 'ads', title: 'Ads', description: 'Partners.', gpc: true },
];

/** The shipped migrations up to `last`, as an older release would have run them. */
class MigrationsUpTo extends ConsentMigrationSource {
  constructor(private readonly last: string) {
    super('consent_');
  }

  override async getMigrations(): Promise<string[]> {
    return (await super.getMigrations()).filter((name) => name <= this.last);
  }
}

/** A database as the earlier release left it. */
async function olderStore(knex: Knex, postgres: boolean): Promise<void> {
  await knex.migrate.latest({ migrationSource: new MigrationsUpTo('005-lean-indexes'), tableName: 'consent_migrations' });
  for (const [table, rows] of Object.entries(STORE)) {
    const typed = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, postgres && BOOLEANS.includes(k) ? v === 1 : v])));
    for (let i = 0; i < typed.length; i += 100) await knex(`consent_${table}`).insert(typed.slice(i, i + 100));
  }
  if (postgres) await knex.raw(`select setval(pg_get_serial_sequence('consent_events', 'id'), (select max(id) from consent_events))`);
}

function open(knex: Knex): Consent {
  const consent = createConsent({ knex, secret: SECRET, logger: quiet });
  consent.register(requirements);
  return consent;
}

describeEachDatabase('upgrading a store written before the global log', (openDb) => {
  it('logs every existing event, seals them with the secret at startup, and verifies; rollback is caught from then on', async function () {
    this.timeout(60_000);
    const db = await openDb();
    const postgres = db.knex.client.config.client === 'pg';
    await olderStore(db.knex, postgres);
    const consent = open(db.knex);
    try {
      await consent.ready();
      expect(await db.knex.schema.hasTable('consent_chains')).to.equal(false, 'the ledger of chains is gone');
      expect(await db.knex('consent_meta').where({ key: 'ledger' }).first()).to.equal(undefined);
      const logged = await loggedEvents(consent.engine.tracker);
      expect(logged.map((e) => Number(e.id))).to.deep.equal(Array.from({ length: EVENTS }, (_, i) => i + 1));
      // Sealed by ready(), which had the secret.
      expect((await consent.engine.tracker.logHead())?.size).to.equal(EVENTS);
      expect(await consent.verify()).to.deep.equal({ ok: true, checked: EVENTS, problems: [] });
      const checkpoint = await consent.checkpoint();
      expect(checkpoint.size).to.equal(EVENTS);
      const receipt = await consent.receipt('alice');
      expect(receipt.log?.checkpoint.size).to.equal(EVENTS);

      await consent.record('alice', { analytics: 'denied' });
      expect(await consent.verify({ checkpoint })).to.deep.include({ ok: true, checked: EVENTS + 1 });
      // An imported subject's newest event removed and its head put back: the log names it.
      const chain: { chain: string } = await db.knex('consent_subjects').where({ pseudonym: Buffer.from(consent.engine.pseudonym('imp-7'), 'hex') }).first('chain');
      const newest = (await db.knex('consent_events').where(chain).orderBy('seq', 'desc').first()) as Record<string, unknown>;
      const before = (await db.knex('consent_events').where(chain).andWhere('seq', Number(newest.seq) - 1).first()) as Record<string, unknown>;
      await db.knex('consent_events').where({ id: newest.id }).delete();
      await db.knex('consent_subjects').where(chain).update({ head_id: before.id });
      const { problems } = await consent.verify();
      expect(problems).to.deep.include({ eventId: consent.engine.eventIds.encode(String(newest.id)), kind: 'rollback' });
    } finally {
      await consent.close();
      await db.release();
    }
  });
});

describeEachDatabase('upgrading a store written before the global log: its head comes with the upgrade', (openDb) => {
  /** A process that stops (crash, deploy, deadline) before any seal of its own after the upgrade. */
  class StopsBeforeSealing extends KnexTracker {
    override sealLog(): Promise<never> {
      return Promise.reject(new Error('the process stopped'));
    }
  }

  /** A process whose seals start late: another one starts in between. */
  class SealsLate extends KnexTracker {
    override async sealLog(fold: Parameters<KnexTracker['sealLog']>[0]): ReturnType<KnexTracker['sealLog']> {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return super.sealLog(fold);
    }
  }

  const started = (tracker: KnexTracker, errors: string[]): Consent => {
    const consent = createConsent({ tracker, secret: SECRET, logger: { warn() {}, error: (m: string) => { errors.push(m); } } });
    consent.register(requirements);
    return consent;
  };

  it('leaves no log without a head to a next start when the upgrading process stops before its own seals', async function () {
    this.timeout(60_000);
    const db = await openDb();
    const errors: string[] = [];
    try {
      await olderStore(db.knex, db.knex.client.config.client === 'pg');
      const first = started(new StopsBeforeSealing(db.knex), errors);
      await first.ready();
      await first.close();
      expect((await new KnexTracker(db.knex).logHead())?.size).to.equal(EVENTS, 'sealed with the upgrade');
      const next = started(new KnexTracker(db.knex), errors);
      try {
        await next.ready();
        expect(await next.verify()).to.deep.equal({ ok: true, checked: EVENTS, problems: [] });
      } finally {
        await next.close();
      }
      expect(errors).to.deep.equal([]);
    } finally {
      await db.release();
    }
  });

  it('raises no alarm in a process that starts once the upgrade is sealed, before the upgrading process seals again', async function () {
    this.timeout(60_000);
    const db = await openDb();
    const errors: string[] = [];
    try {
      await olderStore(db.knex, db.knex.client.config.client === 'pg');
      const a = started(new SealsLate(db.knex), errors);
      const b = started(new KnexTracker(db.knex), errors);
      try {
        const aReady = a.ready();
        const upgraded = async () => (await db.knex.schema.hasTable('consent_log').catch(() => false)) && (await db.knex('consent_meta').where({ key: 'seal_pending' })).length === 0;
        while (!(await upgraded())) await new Promise((resolve) => setTimeout(resolve, 20));
        await b.ready();
        expect(await b.verify()).to.deep.equal({ ok: true, checked: EVENTS, problems: [] });
        await aReady;
      } finally {
        await a.close();
        await b.close();
      }
      expect(errors).to.deep.equal([]);
    } finally {
      await db.release();
    }
  });
});

describePg('upgrading a store written before the global log, several processes at once (PostgreSQL)', () => {
  it('migrates and seals the existing events once', async function () {
    this.timeout(60_000);
    const database = await createPgDatabase();
    const pools = Array.from({ length: 3 }, () => knexFactory(pgKnexConfig(database.url)));
    const instances = pools.map(open);
    try {
      await olderStore(pools[0]!, true);
      await Promise.all(instances.map((c) => c.ready()));
      expect(Number((await pools[0]!('consent_log_blocks').count({ n: '*' }).first())?.n)).to.equal(Math.floor(EVENTS / 256));
      expect((await loggedEvents(instances[0]!.engine.tracker)).length).to.equal(EVENTS);
      for (const c of instances) expect(await c.verify()).to.deep.equal({ ok: true, checked: EVENTS, problems: [] });
    } finally {
      await Promise.all(instances.map((c) => c.close()));
      await Promise.all(pools.map((k) => k.destroy()));
      await database.drop();
    }
  });
});
