import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { LEAF_BYTES, leafCount, leafId } from '../../lib/audit/log-leaf';
import { ConsentStoreError, createConsent, KnexTracker, verifyReceipt, type Consent, type RequirementDefinition } from '../../lib/index';
import { ConsentIntegrityError } from '../../lib/index';
import { unpackLeaves } from '../../lib/knex/packed-leaves';
import { ConsentMigrationSource } from '../../lib/knex/migrations/index';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';
import { changeRecord, storedRecordsOf } from '../helpers/records';

/** A store written by the library as of `commit` (schema 005): see fixtures/make-store-005.mts. */
interface Store005 {
  commit: string;
  secret: string;
  now: number;
  eventSeq: number;
  token: string;
  states: Record<string, unknown>;
  tables: Record<string, Array<Record<string, unknown>>>;
}

// Release 1 (230ef4e) hashed events in format ec2, the actor among the chained fields; fffa85c in ec3.
const STORES = ['230ef4e', 'fffa85c'].map(
  (commit) => JSON.parse(readFileSync(new URL(`./fixtures/store-005-${commit}.json`, import.meta.url), 'utf8')) as Store005,
);
const BOOLEANS = new Set(['gpc_opt_in', 'expiry_recorded']);
const REQUIREMENTS: RequirementDefinition[] = [
  { id: 'analytics', title: 'Usage analytics', description: 'Pages you open.', expiresAfterDays: 30 },
  { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.', doubleOptIn: true },
  { id: 'ads', title: 'Personalised ads', description: 'Ads based on what you read.', gpc: true },
  { id: 'fraud', title: 'Fraud checks', description: 'We check payments.', lawfulBasis: 'legitimate_interests', gpc: true },
];

type Row = Record<string, unknown>;

/** The schema of 005 with the rows the old library wrote, `edit` applied to them first. */
async function load005(STORE: Store005, knex: Knex, edit: (tables: Store005['tables']) => void = () => undefined): Promise<void> {
  const config = { migrationSource: new ConsentMigrationSource('consent_'), tableName: 'consent_migrations' };
  for (let i = 0; i < 5; i += 1) await knex.migrate.up(config);
  const tables = structuredClone(STORE.tables);
  edit(tables);
  for (const [table, rows] of Object.entries(tables)) {
    if (table === 'consent_migrations') continue;
    for (const row of rows) {
      const values = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, BOOLEANS.has(k) ? Boolean(v) : v]));
      await knex(table).insert(values);
    }
  }
  const client = (knex.client as { dialect?: string }).dialect;
  if (client === 'postgresql') await knex.raw("select setval(pg_get_serial_sequence('consent_events', 'id'), ?)", [STORE.eventSeq]);
  else await knex('sqlite_sequence').insert({ name: 'consent_events', seq: STORE.eventSeq }).onConflict().ignore();
}

for (const STORE of STORES) describeEachDatabase(`an upgrade from schema 005 (written by ${STORE.commit}) seals what is there`, (open) => {
  let db: TestDatabase;
  let consents: Consent[];
  let errors: string[];
  let logged: unknown[];
  let warnings: string[];

  const newConsent = (tracker?: KnexTracker): Consent => {
    const consent = createConsent({
      ...(tracker ? { tracker } : { knex: db.knex }),
      secret: STORE.secret,
      cache: false,
      now: () => new Date(STORE.now),
      logger: { warn: (m: string) => void warnings.push(m), error: (m: string, e?: unknown) => { errors.push(m); logged.push(e); } },
    });
    consent.register(REQUIREMENTS);
    consents.push(consent);
    return consent;
  };

  beforeEach(async () => {
    db = await open();
    consents = [];
    errors = [];
    logged = [];
    warnings = [];
  });

  afterEach(async () => {
    for (const consent of consents) await consent.close();
    await db.release();
  });

  it('migrates the rows to bytes, verifies the old proof, seals once (several processes starting at once), and reads as before', async () => {
    await load005(STORE, db.knex);
    const [a, b, c] = [newConsent(), newConsent(), newConsent()];
    await Promise.all([a.ready(), b.ready(), c.ready()]);
    expect(await db.knex('consent_meta').where({ key: 'seal_pending' })).to.deep.equal([]);
    expect(warnings.filter((w) => /sealed the rows/.test(w))).to.have.length(1, 'sealed once');
    const verified = await a.verify();
    expect(verified).to.include({ ok: true, checked: 15 });
    for (const [subject, states] of Object.entries(STORE.states)) expect(await b.states(subject), subject).to.deep.equal(states);
    expect((await a.receipt('alice')).decisions.map((d) => d.requirement)).to.deep.equal(['analytics', 'ads', 'fraud']);
    // The pending confirmation the old release sent still works, and so does every other write.
    await c.engine.record('bob', { fraud: 'denied' });
    expect(await fetchConfirm(a)).to.include({ state: 'granted' });
    await a.erase('alice');
    await a.import([{ subjectId: 'hank', requirement: 'ads', decision: 'granted', at: STORE.now }]);
    expect(await c.verify()).to.include({ ok: true, checked: 19 });
    expect(errors).to.deep.equal([]);
  });

  it('keeps who acted, drops the actors an erasure left, and proves the old events in receipts and checkpoints', async () => {
    await load005(STORE, db.knex);
    const consent = newConsent();
    await consent.ready();
    const fraud = (await consent.history('alice')).events.find((e) => e.requirement === 'fraud');
    expect(fraud).to.include({ action: 'deny', actor: 'agent-7', note: 'signup' });
    // dave was erased at dpo-1's request: his own events keep no actor (release 1 kept it), the erase event does.
    const actors = (await db.knex('consent_events').whereIn('id', [8, 9, 12]).orderBy('id').select('actor')).map((r: Row) => r.actor);
    expect(actors).to.deep.equal([null, null, 'dpo-1']);
    const checkpoint = await consent.checkpoint();
    const receipt = await consent.receipt('bob');
    expect(verifyReceipt(receipt, consent.publicKey)).to.equal(true);
    await consent.record('bob', { ads: 'granted' });
    expect(await consent.verify({ checkpoint })).to.include({ ok: true, checked: 16 });
    expect(errors).to.deep.equal([]);
  });

  it('refuses to seal a store whose event names another actor than the one it was recorded with', async () => {
    await load005(STORE, db.knex, (tables) => {
      const alice = tables.consent_events?.find((r) => r.actor === 'agent-7') as Row;
      alice.actor = 'agent-8';
    });
    const failure = await newConsent().ready().catch((e: unknown) => e);
    expect(failure).to.be.instanceOf(ConsentStoreError);
    expect((failure as ConsentStoreError).extensions.problems).to.deep.include({ eventId: '1', kind: 'modified' });
    expect(await db.knex('consent_meta').where({ key: 'seal_pending' })).to.have.length(1, 'still marked');
  });

  it('refuses to seal a store whose old proof fails, and keeps refusing its rows', async () => {
    await load005(STORE, db.knex, (tables) => {
      // The history says bob withdrew; someone set it back to granted before the upgrade.
      const bob = (tables.consent_states as Array<Record<string, unknown>>).find((r) => r.requirement === 'analytics' && r.decision === 'denied');
      (bob as Record<string, unknown>).decision = 'granted';
    });
    const consent = newConsent();
    let failure: unknown;
    await consent.ready().catch((e: unknown) => { failure = e; });
    expect(failure).to.be.instanceOf(ConsentStoreError).with.property('code', 'store_unavailable');
    expect((failure as ConsentStoreError).extensions.problems).to.deep.equal([
      { eventId: (failure as { extensions: { problems: Array<{ eventId: string }> } }).extensions.problems[0]?.eventId, kind: 'state_mismatch', chain: ((failure as { extensions: { problems: Array<{ chain: string }> } }).extensions.problems[0]?.chain), requirement: 'analytics' },
    ]);
    expect(errors.join('\n')).to.match(/not sealed/);
    // Logged with the error it throws: the command line, which logs what it catches, says it once.
    expect(logged).to.include(failure);
    expect(await db.knex('consent_meta').where({ key: 'seal_pending' })).to.have.length(1, 'still marked');
  });

  it('refuses a stored requirement text that no longer matches its hash', async () => {
    await load005(STORE, db.knex, (tables) => {
      const row = (tables.consent_requirements as Array<Record<string, unknown>>).find((r) => r.id === 'fraud') as Record<string, unknown>;
      row.lawful_basis = 'consent';
    });
    const failure = await newConsent().ready().catch((e: unknown) => e);
    expect(failure).to.be.instanceOf(ConsentStoreError);
    expect(errors.join('\n')).to.match(/requirement "fraud" version 1/);
  });

  /** A tracker on the test's database that runs `between` once the old proof verified, just before it seals. */
  function racedTracker(between: (knex: Knex) => Promise<void>): KnexTracker {
    const tracker = new KnexTracker(db.knex);
    const seal = tracker.sealUpgrade.bind(tracker);
    tracker.sealUpgrade = async (sealer) => {
      await between(db.knex);
      return seal(sealer);
    };
    return tracker;
  }

  /** Bob's chain: he granted analytics (event 4), was asked for the newsletter (5), then withdrew analytics (6). */
  const bobsChain = async (knex: Knex): Promise<Buffer> => (await knex('consent_subjects').where({ head_id: 6 }).first<Row>('chain')).chain as Buffer;

  it('refuses a record changed after the old proof verified, instead of sealing it', async () => {
    await load005(STORE, db.knex);
    const tracker = racedTracker(async (knex) => {
      // Migrated by now: his records are in his subject row.
      const chain = await bobsChain(knex);
      expect((await storedRecordsOf(knex, chain)).find((r) => r.requirement === 'analytics')).to.include({ decision: 'denied' });
      await changeRecord(knex, chain, 'analytics', { decision: 'granted', decidedAt: STORE.now - 1000 });
    });
    const consent = newConsent(tracker);
    const failure = await consent.ready().catch((e: unknown) => e);
    const bob = await consent.states('bob').catch(() => null);
    expect(failure, `sealed; bob's analytics now reads ${JSON.stringify(bob?.analytics)}, verify() ${JSON.stringify(await consent.verify().catch(() => null))}`).to.be.instanceOf(ConsentStoreError);
    expect(errors.join('\n')).to.match(/not sealed/);
    expect(await db.knex('consent_meta').where({ key: 'seal_pending' })).to.have.length(1, 'still marked');
  });

  it('refuses, as an integrity failure it logs, a subject row deleted after the old proof verified (its events left without a head)', async () => {
    await load005(STORE, db.knex);
    const tracker = racedTracker(async (knex) => {
      // His records go with his row.
      const chain = await bobsChain(knex);
      expect(await storedRecordsOf(knex, chain)).to.have.length(2);
      await knex('consent_subjects').where({ chain }).delete();
    });
    const consent = newConsent(tracker);
    const failure = await consent.ready().catch((e: unknown) => e);
    expect(failure).to.be.instanceOf(ConsentIntegrityError);
    expect((failure as Error).message).to.match(/not sealed: event \d+ belongs to chain [0-9a-f]+, which has no head/);
    expect(errors).to.have.length(1);
    expect(logged).to.deep.equal([failure]);
    expect(await db.knex('consent_meta').where({ key: 'seal_pending' })).to.have.length(1, 'still marked');
  });

  it('refuses a chain cut back after the old proof verified (newest event and its leaf gone, seal removed), instead of sealing it', async () => {
    await load005(STORE, db.knex);
    const tracker = racedTracker(async (knex) => {
      const chain = await bobsChain(knex);
      await knex('consent_events').where({ id: 6 }).delete();
      await knex('consent_subjects').where({ chain }).update({ head_id: 5, head_mac: Buffer.alloc(0) });
      const grant = await knex('consent_events').where({ id: 4 }).first<Row>('at');
      expect((await storedRecordsOf(knex, chain)).find((r) => r.requirement === 'analytics')).to.include({ decision: 'denied' });
      await changeRecord(knex, chain, 'analytics', { decision: 'granted', decidedAt: Number(grant.at) });
      const entries: Row[] = await knex('consent_log').select('tx', 'part', 'leaves');
      for (const entry of entries) {
        const leaves = unpackLeaves(Buffer.from(entry.leaves as Uint8Array));
        const kept = Array.from({ length: leafCount(leaves) }, (_, i) => i).filter((i) => leafId(leaves, i) !== '6');
        const out = Buffer.concat(kept.map((i) => leaves.subarray(i * LEAF_BYTES, (i + 1) * LEAF_BYTES)));
        await knex('consent_log').where({ tx: entry.tx, part: entry.part }).update({ leaves: out });
      }
    });
    const consent = newConsent(tracker);
    const failure = await consent.ready().catch((e: unknown) => e);
    const bob = await consent.states('bob').catch(() => null);
    expect(failure, `sealed; bob's analytics now reads ${JSON.stringify(bob?.analytics)}, verify() ${JSON.stringify(await consent.verify().catch(() => null))}`).to.be.instanceOf(ConsentStoreError);
    expect(await db.knex('consent_meta').where({ key: 'seal_pending' })).to.have.length(1, 'still marked');
  });

  /** Confirms the old release's pending token through the library (the HTTP route's core). */
  async function fetchConfirm(consent: Consent): Promise<Record<string, unknown>> {
    const { confirmToken } = await import('../../lib/core/confirm');
    return (await confirmToken(consent.engine, STORE.token)) as unknown as Record<string, unknown>;
  }
});
