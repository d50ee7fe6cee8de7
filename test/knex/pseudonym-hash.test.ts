import { join } from 'node:path';
import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, migrate, type Consent } from '../../lib/index';
import { captureStatements, queryPlan } from '../../bench/lib/plans';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { olderLibrary } from '../helpers/older-library';

const SECRET = 'pseudonym-hash-secret-0123456789abcdef01';
const quiet = { warn() {}, error() {} };
const requirements = [
  { id: 'terms', title: 'Terms', description: 'Terms of use.' },
  { id: 'news', title: 'News', description: 'A monthly letter.' },
];
// The last commit whose schema ends with 011-personal-salts.
const RELEASE_011 = '898633f';
const INDEX = 'consent_subjects_pseudonym_unique';

function open(knex: Knex, create: typeof createConsent = createConsent): Consent {
  const consent = create({ knex, secret: SECRET, logger: quiet, sweep: false, cache: false });
  consent.register(requirements);
  return consent;
}

/** How the pseudonyms are kept apart: the constraint's kind and its index's access method. */
async function pseudonymIndex(knex: Knex): Promise<{ constraint: string | null; method: string | null }> {
  const { rows } = await knex.raw<{ rows: Array<{ constraint: string | null; method: string | null }> }>(
    `select (select contype::text from pg_constraint where conname = ?) as constraint,
            (select am.amname from pg_class c join pg_am am on am.oid = c.relam where c.relname = ?) as method`,
    [INDEX, INDEX],
  );
  return rows[0] as { constraint: string | null; method: string | null };
}

async function subjectRows(knex: Knex): Promise<number> {
  return Number(((await knex('consent_subjects').count({ n: '*' }).first()) as { n: string | number }).n);
}

describePg('pseudonyms kept apart by a hash index (migration 012-pseudonym-hash)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let knex: Knex;

  beforeEach(async () => {
    db = await createPgDatabase();
    knex = knexFactory(pgKnexConfig(db.url));
  });

  afterEach(async () => {
    await knex.destroy();
    await db.drop();
  });

  it('upgrades a store of the 011 schema: the same subjects, states and proof, read and written through the new index', async function () {
    this.timeout(120_000);
    const older = open(knex, ((await import(join(olderLibrary(RELEASE_011), 'lib/index.ts'))) as { createConsent: typeof createConsent }).createConsent);
    const ids = Array.from({ length: 40 }, (_, i) => `person-${String(i)}`);
    try {
      await older.ready();
      await older.import(ids.map((id, i) => ({ subjectId: id, requirement: 'terms', decision: i % 3 ? 'granted' : 'denied', at: Date.now() - 60_000 })));
      await older.record('person-1', { news: 'granted' });
      await older.erase('person-2');
    } finally {
      await older.close();
    }
    expect((await knex('consent_migrations').orderBy('id', 'desc').first('name')).name).to.equal('011-personal-salts');
    expect(await pseudonymIndex(knex)).to.deep.equal({ constraint: 'u', method: 'btree' });

    await migrate(knex);
    expect(await pseudonymIndex(knex)).to.deep.equal({ constraint: 'x', method: 'hash' });

    const consent = open(knex);
    try {
      await consent.ready();
      expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
      expect((await consent.states('person-1')).news?.state).to.equal('granted');
      expect((await consent.states('person-3')).terms?.state).to.equal('denied');
      expect((await consent.states('person-4')).terms?.state).to.equal('granted');
      expect((await consent.states('person-2')).terms?.state).to.equal('unset');
      expect(await subjectRows(knex)).to.equal(ids.length);

      // A later decision of a stored subject finds its row through the hash index: no new row.
      const statements = await captureStatements(knex, () => consent.record('person-5', { news: 'denied' }));
      const lookup = statements.find((s) => /"pseudonym" in|"pseudonym" =|pseudonym" = \$/.test(s.sql));
      expect(lookup, 'a lookup by pseudonym').to.not.equal(undefined);
      // Forty rows fit one page, which the planner would rather read whole: it is told not to.
      const plan = await knex.transaction(async (trx) => {
        await trx.raw('set local enable_seqscan = off');
        return queryPlan(trx, lookup as NonNullable<typeof lookup>);
      });
      expect(plan.join('\n')).to.include(INDEX);
      expect(await subjectRows(knex)).to.equal(ids.length);
      expect((await consent.history('person-5')).events).to.have.length(2);
      expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
    } finally {
      await consent.close();
    }
  });

  it('two processes writing the first decisions of the same new people at once store one subject each', async function () {
    this.timeout(60_000);
    const second = knexFactory(pgKnexConfig(db.url));
    const a = open(knex);
    const b = open(second);
    try {
      await a.ready();
      await b.ready();
      const ids = Array.from({ length: 60 }, (_, i) => `new-${String(i)}`);
      await Promise.all(ids.flatMap((id) => [a.record(id, { terms: 'granted' }), b.record(id, { news: 'granted' })]));
      expect(await subjectRows(knex)).to.equal(ids.length);
      for (const id of ids) {
        const states = await a.states(id);
        expect([states.terms?.state, states.news?.state], id).to.deep.equal(['granted', 'granted']);
        expect((await b.history(id)).events, id).to.have.length(2);
      }
      expect(await a.verify()).to.deep.include({ ok: true, problems: [] });
    } finally {
      await a.close();
      await b.close();
      await second.destroy();
    }
  });

  it('the database itself refuses a second row for a stored pseudonym', async () => {
    const consent = open(knex);
    try {
      await consent.ready();
      await consent.record('someone', { terms: 'granted' });
    } finally {
      await consent.close();
    }
    const row = await knex<{ pseudonym: Buffer; head_mac: Buffer }>('consent_subjects').first('pseudonym', 'head_mac');
    if (row === undefined) throw new Error('no subject row');
    const copy = knex('consent_subjects').insert({ chain: Buffer.from('0102030405060708', 'hex'), pseudonym: row.pseudonym, head_mac: row.head_mac });
    const refused = await copy.then(() => null, (error: unknown) => error as { code?: string });
    expect(refused?.code).to.equal('23P01');
    expect(await subjectRows(knex)).to.equal(1);
  });
});
