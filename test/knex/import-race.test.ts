import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { waitUntil } from '../core/wait-until';

const SECRET = 'import-race-secret-0123456789abcdef01234';
const quiet = { warn() {}, error() {} };
const AT = Date.parse('2025-06-01T00:00:00.000Z');

function newConsent(knex: Knex): Consent {
  const consent = createConsent({ knex, secret: SECRET, logger: quiet, cache: false });
  consent.register([{ id: 'a', title: 'A', description: 'A' }]);
  return consent;
}

async function lockWaiters(knex: Knex): Promise<number> {
  const result: { rows: Array<{ n: string }> } = await knex.raw(
    "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
  );
  return Number(result.rows[0]?.n);
}

describePg('consent.import() racing other writers (PostgreSQL)', () => {
  let drop: () => Promise<void>;
  let knexes: Knex[];
  let consents: Consent[];

  beforeEach(async () => {
    const database = await createPgDatabase();
    drop = database.drop;
    knexes = [knexFactory(pgKnexConfig(database.url)), knexFactory(pgKnexConfig(database.url))];
    consents = knexes.map(newConsent);
    for (const consent of consents) await consent.ready();
  });
  afterEach(async () => {
    for (const consent of consents) await consent.close();
    for (const knex of knexes) await knex.destroy();
    await drop();
  });

  it('creates a subject again when an erasure unlinks it while the import waits for its lock', async () => {
    const [first, second] = consents as [Consent, Consent];
    await first.record('x', { a: 'granted' });
    // A third transaction holds x's row: the erasure queues for it first, then the import.
    const blocker = await (knexes[0] as Knex).transaction();
    await blocker('consent_subjects').where({ pseudonym: Buffer.from(first.engine.pseudonym('x'), 'hex') }).forUpdate();
    const erasing = first.erase('x');
    await waitUntil(async () => (await lockWaiters(knexes[0] as Knex)) === 1, 'the erasure to wait for the lock');
    const importing = second.import([
      { subjectId: 'w', requirement: 'a', decision: 'granted', at: AT },
      { subjectId: 'x', requirement: 'a', decision: 'denied', at: AT },
    ]);
    await waitUntil(async () => (await lockWaiters(knexes[0] as Knex)) === 2, 'the import to wait for the lock');
    await blocker.commit();
    expect(await erasing).to.deep.equal({ events: 1 });
    expect(await importing).to.deep.equal({ imported: 2 });

    const { events } = await second.history('x');
    expect(events.map((e) => `${e.action}:${e.source}`)).to.deep.equal(['deny:import']);
    expect((await second.states('x')).a?.state).to.equal('denied');
    expect(await second.verify()).to.include({ ok: true, checked: 4 });
  });

  it('lets two imports of the same subjects run at once without deadlock or forked chains', async () => {
    const items = (decision: string, at: number) =>
      Array.from({ length: 3000 }, (_, i) => ({ subjectId: `p${String(i % 1000)}`, requirement: 'a', decision, at: at + i }));
    const forward = items('granted', AT);
    const backward = items('denied', AT + 10_000).reverse();
    const results = await Promise.all([
      (consents[0] as Consent).import(forward, { batchSize: 700 }),
      (consents[1] as Consent).import(backward, { batchSize: 900 }),
    ]);
    expect(results).to.deep.equal([{ imported: 3000 }, { imported: 3000 }]);
    expect(await (consents[0] as Consent).verify()).to.include({ ok: true, checked: 6000 });
    const { events } = await (consents[1] as Consent).history('p7', { limit: 10 });
    expect(events).to.have.length(6);
  });
});
