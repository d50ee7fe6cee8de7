import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, ConsentError, type Consent } from '../../lib/index';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';

const SECRET = 'r'.repeat(32);
const terms = (version: number) => ({ id: 'terms', version, title: `Terms v${String(version)}`, description: `Terms, edition ${String(version)}` });

describePg('rolling deploy (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createPgDatabase>>;
  const knexes: Knex[] = [];

  function instance(version: number): Consent {
    const knex = knexFactory(pgKnexConfig(database.url));
    knexes.push(knex);
    // No cache: each instance stands for a separate process reading the shared database.
    const consent = createConsent({ knex, secret: SECRET, cache: false });
    consent.register(terms(version));
    return consent;
  }

  beforeEach(async () => {
    database = await createPgDatabase();
  });

  afterEach(async () => {
    await Promise.all(knexes.splice(0).map((knex) => knex.destroy()));
    await database.drop();
  });

  it('old (v1) and new (v2) processes share one database while the deploy rolls', async () => {
    const old = instance(1);
    await old.ready();
    await old.record('early', { terms: 'granted' });
    const next = instance(2);
    await next.ready();

    const stored = await knexes[1]!('consent_requirements').where({ id: 'terms' }).orderBy('version').select('version', 'title');
    expect(stored).to.deep.equal([{ version: 1, title: 'Terms v1' }, { version: 2, title: 'Terms v2' }]);

    // Grants recorded by the old process are of v1: outdated for the new process.
    await old.record('via-old', { terms: 'granted' });
    for (const subject of ['early', 'via-old']) {
      expect((await old.states(subject)).terms).to.include({ state: 'granted', version: 1, allowed: true });
      expect((await next.states(subject)).terms).to.include({ state: 'outdated', version: 1, allowed: false });
      expect(await next.pending(subject)).to.deep.equal(['terms']);
    }

    // Grants recorded by the new process are of v2: a version >= its own counts for the old one.
    await next.record('via-new', { terms: 'granted' });
    expect((await next.states('via-new')).terms).to.include({ state: 'granted', version: 2, allowed: true });
    expect((await old.states('via-new')).terms).to.include({ state: 'granted', version: 2, allowed: true });
    expect(await old.isAllowed('via-new', 'terms')).to.equal(true);

    // A denial stays a denial on both sides, and a withdrawal through the old process is seen at once.
    await old.record('via-new', { terms: 'denied' });
    expect((await next.states('via-new')).terms?.state).to.equal('denied');
    const actions = (await next.history('via-new')).events.map((e) => [e.action, e.version]);
    expect(actions).to.deep.equal([['withdraw', 1], ['grant', 2]]);

    // Re-asked by the new process, the early subject moves to v2.
    await next.record('early', { terms: 'granted' });
    expect((await old.states('early')).terms).to.include({ state: 'granted', version: 2 });
  });

  it('an old process restarting after the new one stored v2 fails with version_downgrade', async () => {
    const old = instance(1);
    await old.ready();
    const next = instance(2);
    await next.ready();
    const restarted = instance(1);
    try {
      await restarted.ready();
      expect.fail('ready() should reject');
    } catch (error) {
      expect(error).to.be.instanceOf(ConsentError);
      expect(error).to.include({ code: 'version_downgrade' });
      expect((error as ConsentError).extensions).to.deep.equal({ id: 'terms', version: 1, stored: 2 });
    }
    expect(await restarted.states('anyone').catch((e: unknown) => (e as ConsentError).code)).to.equal('version_downgrade');
    // The still-running old process keeps serving.
    expect((await old.record('late', { terms: 'granted' })).states.terms?.state).to.equal('granted');
  });
});
