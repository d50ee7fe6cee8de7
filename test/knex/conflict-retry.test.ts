import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent } from '../../lib/index';
import { createPgDatabase, describePg, pgKnexConfig } from '../helpers/databases';
import { memoryLogger } from '../helpers/consent-setup';

const SECRET = 'conflict-retry-secret-0123456789abcdef01';

/**
 * Makes PostgreSQL fail the next `times` transactions that insert events with SQLSTATE `code`,
 * as its deadlock detector fails one of two writers waiting for each other. The count lives in
 * a sequence, which a rollback does not undo.
 */
async function failNextWrites(knex: Knex, times: number, code: string): Promise<void> {
  await knex.raw('drop trigger if exists fail_writes on consent_events');
  await knex.raw('drop sequence if exists fail_writes_count');
  await knex.raw('create sequence fail_writes_count');
  await knex.raw(`
    create or replace function fail_writes() returns trigger language plpgsql as $$
    begin
      if nextval('fail_writes_count') <= ${String(times)} then
        raise exception 'made to fail' using errcode = '${code}';
      end if;
      return null;
    end $$`);
  await knex.raw('create trigger fail_writes after insert on consent_events for each statement execute function fail_writes()');
}

/** How many transactions the trigger has seen (failed or let through). */
async function attempts(knex: Knex): Promise<number> {
  const result: { rows: Array<{ last_value: string; is_called: boolean }> } = await knex.raw('select last_value, is_called from fail_writes_count');
  const row = result.rows[0] as { last_value: string; is_called: boolean };
  return row.is_called ? Number(row.last_value) : 0;
}

async function eventCount(knex: Knex): Promise<number> {
  const row = await knex('consent_events').count<{ n: string }>('* as n').first();
  return Number(row?.n);
}

describePg('writes that PostgreSQL rolls back for a conflict', () => {
  let knex: Knex;
  let drop: () => Promise<void>;
  let consent: Consent;

  beforeEach(async () => {
    const database = await createPgDatabase();
    drop = database.drop;
    knex = knexFactory(pgKnexConfig(database.url));
    consent = createConsent({ knex, secret: SECRET, sweep: false, logger: memoryLogger() });
    consent.register({ id: 'terms', title: 'Terms', description: 'Terms of use.' });
    consent.register({ id: 'news', title: 'Newsletter', description: 'A monthly e-mail.' });
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await knex.destroy();
    await drop();
  });

  it('runs a write again after a deadlock, and it is stored once', async () => {
    await failNextWrites(knex, 1, '40P01');
    const result = await consent.record('ada', { terms: 'granted', news: 'denied' });
    expect(result.states.terms?.state).to.equal('granted');
    expect(await attempts(knex)).to.equal(2);
    expect(await eventCount(knex)).to.equal(2);
    expect(await consent.isAllowed('ada', 'terms')).to.equal(true);
    expect(await consent.verify()).to.include({ ok: true, checked: 2 });
  });

  it('runs writes that arrived together again, each after a serialization failure', async () => {
    await failNextWrites(knex, 2, '40001');
    const subjects = Array.from({ length: 12 }, (_, i) => `s${String(i)}`);
    await Promise.all(subjects.map((s) => consent.record(s, { terms: 'granted' })));
    for (const s of subjects) expect(await consent.isAllowed(s, 'terms')).to.equal(true);
    expect(await consent.verify()).to.include({ ok: true, checked: 12 });
  });

  it('runs an import batch again after a deadlock', async () => {
    await failNextWrites(knex, 1, '40P01');
    const decisions = Array.from({ length: 300 }, (_, i) => ({ subjectId: `i${String(i)}`, requirement: 'terms', decision: 'granted' as const, at: Date.now() - 1000 }));
    await consent.import(decisions);
    expect(await attempts(knex)).to.equal(2);
    expect(await consent.isAllowed('i299', 'terms')).to.equal(true);
    expect(await consent.verify()).to.include({ ok: true, checked: 300 });
  });

  it('runs an erasure again after a deadlock', async () => {
    await consent.record('cy', { terms: 'granted' }, { note: 'called in' });
    await failNextWrites(knex, 1, '40P01');
    expect(await consent.erase('cy')).to.deep.equal({ events: 1 });
    expect(await attempts(knex)).to.equal(2);
    expect(await consent.isAllowed('cy', 'terms')).to.equal(false);
    expect(await knex('consent_events').whereNotNull('note').count<{ n: string }>('* as n').first()).to.deep.equal({ n: '0' });
    expect(await consent.verify()).to.include({ ok: true, checked: 2 });
  });

  it('gives up after three runs, with nothing stored', async () => {
    await failNextWrites(knex, 5, '40P01');
    const error: unknown = await consent.record('bob', { terms: 'granted' }).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    expect(await attempts(knex)).to.equal(3);
    expect(await eventCount(knex)).to.equal(0);
    expect(await consent.isAllowed('bob', 'terms')).to.equal(false);
  });

  it('does not run a write again for another failure', async () => {
    await failNextWrites(knex, 1, '23514');
    const error: unknown = await consent.record('eve', { terms: 'granted' }).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    expect(await attempts(knex)).to.equal(1);
    expect(await consent.isAllowed('eve', 'terms')).to.equal(false);
  });

  it('reports the failure of the write, not that of a ROLLBACK on the dead connection after it', async () => {
    // The write's own backend is ended under it: its statement fails (57P01), then so does the
    // ROLLBACK on the closed connection, whose error used to replace the first.
    await knex.raw(`
      create or replace function end_writer() returns trigger language plpgsql as $$
      begin
        perform pg_terminate_backend(pg_backend_pid());
        return null;
      end $$`);
    await knex.raw('create trigger end_writer after insert on consent_events for each statement execute function end_writer()');
    const error = (await consent.record('fay', { terms: 'granted' }).then(() => null, (e: unknown) => e)) as { code?: string; cause?: { code?: string } } | null;
    expect(error?.code).to.equal('store_unavailable');
    expect(error?.cause?.code, String((error?.cause as Error | undefined)?.message)).to.equal('57P01');
    await knex.raw('drop trigger end_writer on consent_events');
    expect(await consent.isAllowed('fay', 'terms')).to.equal(false);
  });
});
