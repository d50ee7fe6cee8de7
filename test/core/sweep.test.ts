import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { confirmToken } from '../../lib/core/confirm';
import { createConsent, ConsentError, KnexTracker, MemoryTracker, type ChangePayload, type Consent } from '../../lib/index';
import { captureStatements } from '../../bench/lib/plans';
import type { SubjectSnapshot, WritePlan } from '../../lib/tracker/records';
import { intercept } from '../helpers/intercept';
import { allStoredRecords, changeRecord } from '../helpers/records';
import { createPgDatabase, describePg, pgKnexConfig, sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const DAY = 86_400_000;
const START = Date.parse('2026-05-01T00:00:00.000Z');

describe('sweep(): expire events for lapsed grants', () => {
  let file: ReturnType<typeof tempSqliteFile>;
  let knex: Knex;
  let consent: Consent;
  const clock = { ms: START };

  function open(version = 1): Consent {
    const instance = createConsent({ knex, secret: 's'.repeat(32), sweep: false, cache: false, now: () => new Date(clock.ms) });
    instance.register([
      { id: 'analytics', version, title: 'Analytics', description: 'Usage statistics.', expiresAfterDays: 1 },
      { id: 'newsletter', title: 'Newsletter', description: 'Monthly email.', expiresAfterDays: 1, doubleOptIn: true },
      { id: 'forever', title: 'Forever', description: 'Never expires.' },
    ]);
    return instance;
  }

  beforeEach(async () => {
    clock.ms = START;
    file = tempSqliteFile();
    knex = knexFactory(sqliteKnexConfig(file.filename));
    consent = open();
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await knex.destroy();
    file.remove();
  });

  const trail = async (subject: string) => (await consent.history(subject)).events.map((e) => `${e.requirement}:${e.action}/${e.source}/${e.state}`);

  it('records one expire event (source sweep) per lapsed grant; running again records nothing', async () => {
    const changes: ChangePayload[] = [];
    consent.on('change', (c) => void changes.push(c));
    await consent.record('ada', { analytics: 'granted', forever: 'granted' });
    clock.ms = START + DAY - 1;
    expect(await consent.sweep()).to.deep.equal({ recorded: 0, refused: 0 });
    clock.ms = START + DAY;
    expect(await consent.sweep()).to.deep.equal({ recorded: 1, refused: 0 });
    expect(await consent.sweep()).to.deep.equal({ recorded: 0, refused: 0 });
    expect(await trail('ada')).to.deep.equal(['analytics:expire/sweep/expired', 'forever:grant/app/granted', 'analytics:grant/app/granted']);
    const [expire] = (await consent.history('ada')).events;
    expect(expire).to.include({ at: new Date(START + DAY).toISOString(), version: 1 });
    expect((await consent.states('ada')).analytics).to.include({ state: 'expired', expiresAt: new Date(START + DAY).toISOString() });
    // The subject's id is kept sealed with its chain: the change event names the subject.
    expect(changes.filter((c) => c.action === 'expire')).to.deep.equal([{
      subjectId: 'ada', requirement: 'analytics', action: 'expire', state: 'expired', previous: 'granted', source: 'sweep', eventId: expire?.id, at: new Date(START + DAY).toISOString(),
    }]);
  });

  it('delivers expiries to durable handlers; one of a subject whose id the store does not keep is in the history only', async () => {
    await consent.close();
    consent = open();
    const delivered: ChangePayload[] = [];
    consent.on('change', (c) => void delivered.push(c), { name: 'crm' });
    await consent.ready();
    await consent.record('ada', { analytics: 'granted' });
    await consent.record('cy', { analytics: 'granted' });
    // Recorded before the store kept subject ids (or the id no longer opens): nobody to name.
    await knex('consent_subjects').where({ pseudonym: Buffer.from(consent.engine.pseudonym('cy'), 'hex') }).update({ sealed_subject: null });
    const settle = async (count: number) => {
      for (let i = 0; i < 200 && delivered.length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await settle(2);
    clock.ms = START + DAY;
    expect(await consent.sweep()).to.deep.equal({ recorded: 2, refused: 0 });
    await settle(3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(delivered.map((c) => [c.subjectId, c.action, c.source])).to.deep.equal([['ada', 'grant', 'app'], ['cy', 'grant', 'app'], ['ada', 'expire', 'sweep']]);
    expect(await trail('cy')).to.deep.equal(['analytics:expire/sweep/expired', 'analytics:grant/app/granted']);
    expect((await consent.verify()).problems).to.deep.equal([]);
  });

  it('writes nothing for a subject erased between the listing and its write: it is not stored again', async () => {
    await consent.close();
    let eraseFirst = false;
    const inner = new KnexTracker(knex);
    const tracker = intercept(inner, {
      lapsedGrants: (method) => async (query: unknown) => {
        const page = (await method(query)) as unknown[];
        if (eraseFirst && page.length > 0) { eraseFirst = false; await consent.erase('ada'); }
        return page;
      },
    });
    consent = createConsent({ tracker, secret: 's'.repeat(32), sweep: false, cache: false, now: () => new Date(clock.ms) });
    consent.register({ id: 'analytics', title: 'Analytics', description: 'Usage statistics.', expiresAfterDays: 1 });
    const changes: ChangePayload[] = [];
    consent.on('change', (c) => void changes.push(c));
    await consent.ready();
    await consent.record('ada', { analytics: 'granted' });
    clock.ms = START + DAY;
    eraseFirst = true;
    expect(await consent.sweep()).to.deep.equal({ recorded: 0, refused: 0 });
    const linked = await knex('consent_subjects').whereNotNull('pseudonym').count({ n: '*' });
    expect(Number(linked[0]?.n), 'no subject row for the erased pseudonym').to.equal(0);
    const listed: string[] = [];
    for await (const id of consent.audience('analytics', { state: 'unset' })) listed.push(id);
    expect(listed).to.deep.equal([]);
    expect(changes.map((c) => c.action)).to.deep.equal(['grant']);
    expect((await consent.verify()).ok).to.equal(true);
  });

  it('records a new expiry after a new grant lapses', async () => {
    await consent.record('bo', { analytics: 'granted' });
    clock.ms = START + 2 * DAY;
    await consent.sweep();
    await consent.record('bo', { analytics: 'granted' });
    clock.ms = START + 4 * DAY;
    expect(await consent.sweep()).to.deep.equal({ recorded: 1, refused: 0 });
    expect((await trail('bo')).filter((t) => t.includes('expire'))).to.have.length(2);
  });

  it('concurrent sweeps record each expiry once', async () => {
    await consent.record('cy', { analytics: 'granted' });
    clock.ms = START + DAY;
    const runs = await Promise.all([consent.sweep(), consent.sweep(), consent.sweep()]);
    expect(runs.reduce((n, r) => n + r.recorded, 0)).to.equal(1);
  });

  it('pages through many subjects', async () => {
    // SQLite in memory: the same queries, without a disk sync per write.
    const memory = knexFactory({ ...sqliteKnexConfig(':memory:'), pool: { min: 1, max: 1 } } as Knex.Config);
    const many = createConsent({ knex: memory, secret: 's'.repeat(32), sweep: false, now: () => new Date(clock.ms) });
    many.register([{ id: 'a', title: 'A', description: 'A', expiresAfterDays: 1 }, { id: 'b', title: 'B', description: 'B', expiresAfterDays: 1 }]);
    try {
      for (let i = 0; i < 150; i += 1) await many.record(`p${String(i)}`, { a: 'granted', b: 'granted' });
      clock.ms = START + DAY;
      expect(await many.sweep()).to.deep.equal({ recorded: 300, refused: 0 });
      expect(await many.sweep()).to.deep.equal({ recorded: 0, refused: 0 });
    } finally {
      await many.close();
      await memory.destroy();
    }
  });

  it('writes the expiries of a page of subjects together, in a few transactions', async () => {
    const subjects = Array.from({ length: 250 }, (_, i) => `g${String(i)}`);
    await consent.import(subjects.map((subjectId) => ({ subjectId, requirement: 'analytics', decision: 'granted', at: START })));
    clock.ms = START + DAY;
    let result: Awaited<ReturnType<Consent['sweep']>> | undefined;
    const sent = await captureStatements(knex, async () => { result = await consent.sweep(); });
    expect(result).to.deep.equal({ recorded: 250, refused: 0 });
    // One transaction per subject would be 250; the writes in flight together (32) share one.
    expect(sent.filter((s) => /^begin/i.test(s.sql)).length).to.be.within(1, 25);
    for (const subject of ['g0', 'g249']) expect(await trail(subject)).to.deep.equal(['analytics:expire/sweep/expired', 'analytics:grant/import/granted']);
    expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
  });

  it("keeps each write within its own storage deadline, with a tracker that takes one write at a time", async () => {
    // 15 ms a write, one after another: a page of 200 written at once would leave the last
    // waiting past the default deadline (2 s).
    class OneAtATime extends MemoryTracker {
      private tail: Promise<unknown> = Promise.resolve();
      override write<T>(pseudonym: string, plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T }): Promise<{ result: T; eventIds: string[] }> {
        const run = this.tail.then(async () => {
          await new Promise((resolve) => setTimeout(resolve, 15));
          return super.write(pseudonym, plan);
        });
        this.tail = run.catch(() => undefined);
        return run;
      }
    }
    const serial = createConsent({ tracker: new OneAtATime(), secret: 's'.repeat(32), sweep: false, cache: false, now: () => new Date(clock.ms) });
    serial.register({ id: 'analytics', title: 'Analytics', description: 'Usage statistics.', expiresAfterDays: 1 });
    try {
      await serial.ready();
      await serial.import(Array.from({ length: 250 }, (_, i) => ({ subjectId: `s${String(i)}`, requirement: 'analytics', decision: 'granted', at: START })));
      clock.ms = START + DAY;
      expect(await serial.sweep()).to.deep.equal({ recorded: 250, refused: 0 });
    } finally {
      await serial.close();
    }
  });

  it('stops starting writes once the store fails, and rejects with the failure', async () => {
    let writes = 0;
    class Failing extends MemoryTracker {
      override write<T>(pseudonym: string, plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: T }): Promise<{ result: T; eventIds: string[] }> {
        writes += 1;
        if (writes > 10) return Promise.reject(new Error('the disk is gone'));
        return super.write(pseudonym, plan);
      }
    }
    const tracker = new Failing();
    const failing = createConsent({ tracker, secret: 's'.repeat(32), sweep: false, cache: false, logger: { warn() {}, error() {} }, now: () => new Date(clock.ms) });
    failing.register({ id: 'analytics', title: 'Analytics', description: 'Usage statistics.', expiresAfterDays: 1 });
    try {
      await failing.ready();
      await failing.import(Array.from({ length: 200 }, (_, i) => ({ subjectId: `f${String(i)}`, requirement: 'analytics', decision: 'granted', at: START })));
      clock.ms = START + DAY;
      writes = 0;
      const error: unknown = await failing.sweep().then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ConsentError).and.to.have.property('code', 'store_unavailable');
      // The writes under way when the first failed, and no more of the page's 200.
      expect(writes).to.be.within(11, 10 + 32);
    } finally {
      await failing.close();
    }
  });

  it('waits while a re-grant awaits confirmation, then records it', async () => {
    const [first] = (await consent.engine.record('di', { newsletter: 'granted' })).tokens;
    await confirmToken(consent.engine, first!.token);
    clock.ms = START + DAY;
    const [second] = (await consent.engine.record('di', { newsletter: 'granted' })).tokens;
    expect(second).to.not.equal(undefined);
    expect(await consent.sweep()).to.deep.equal({ recorded: 0, refused: 0 });
    clock.ms = START + 4 * DAY;
    expect(await consent.sweep()).to.deep.equal({ recorded: 1, refused: 0 });
    expect((await trail('di'))[0]).to.equal('newsletter:expire/sweep/expired');
  });

  it('only marks grants that an older version already voids', async () => {
    await consent.record('el', { analytics: 'granted' });
    await consent.close();
    consent = open(2);
    await consent.ready();
    clock.ms = START + DAY;
    expect(await consent.sweep()).to.deep.equal({ recorded: 0, refused: 0 });
    expect((await consent.states('el')).analytics!.state).to.equal('outdated');
    expect((await allStoredRecords(knex)).filter((r) => r.expiryRecorded)).to.have.length(1);
    // Marked, it is due no more: the subject row names no lapse for the sweep to find.
    expect(await knex('consent_subjects').whereNotNull('lapse_at').select('chain')).to.deep.equal([]);
  });

  it('validates the sweep option', () => {
    expect(() => createConsent({ sweep: { interval: 5 } as never })).to.throw(ConsentError, /did you mean "intervalMs"/);
    expect(() => createConsent({ sweep: { intervalMs: 0 } })).to.throw(ConsentError, /positive integer/);
    expect(() => createConsent({ outbox: { pollMS: 5 } as never })).to.throw(ConsentError, /pollMs/);
  });
});

describePg('sweep() on PostgreSQL', () => {
  it('pages past one page of lapsed grants and records each once', async () => {
    const database = await createPgDatabase();
    const knex = knexFactory(pgKnexConfig(database.url));
    const clock = { ms: START };
    // A generous deadline: this test is about paging, not about a loaded machine's latency.
    const consent = createConsent({ knex, secret: 's'.repeat(32), sweep: false, storeTimeoutMs: 60_000, now: () => new Date(clock.ms) });
    consent.register([{ id: 'a', title: 'A', description: 'A', expiresAfterDays: 1 }, { id: 'b', title: 'B', description: 'B', expiresAfterDays: 1 }]);
    try {
      for (let i = 0; i < 110; i += 10) {
        await Promise.all(Array.from({ length: 10 }, (_, j) => consent.record(`p${String(i + j)}`, { a: 'granted', b: 'granted' })));
      }
      clock.ms = START + DAY;
      const runs = await Promise.all([consent.sweep(), consent.sweep()]);
      expect(runs[0].recorded + runs[1].recorded).to.equal(220);
      expect(await consent.sweep()).to.deep.equal({ recorded: 0, refused: 0 });
      expect(await knex('consent_events').where({ action: 'expire' }).count({ n: '*' })).to.deep.equal([{ n: '220' }]);
    } finally {
      await consent.close();
      await knex.destroy();
      await database.drop();
    }
  });
});

describe('sweep(): a refused subject is counted once', () => {
  it('even when its lapsed grants fill more than one page of the sweep', async () => {
    const file = tempSqliteFile();
    const knex = knexFactory(sqliteKnexConfig(file.filename));
    const clock = { ms: START };
    const errors: string[] = [];
    const consent = createConsent({ knex, secret: 's'.repeat(32), sweep: false, cache: false, now: () => new Date(clock.ms), logger: { warn() {}, error: (m: string) => void errors.push(m) } });
    try {
      // More lapsing requirements than a page of the sweep (200) holds.
      const ids = Array.from({ length: 230 }, (_, i) => `r${String(i).padStart(3, '0')}`);
      consent.register(ids.map((id) => ({ id, title: id, description: id, expiresAfterDays: 1 })));
      await consent.ready();
      await consent.import(ids.map((requirement) => ({ subjectId: 'ada', requirement, decision: 'granted', at: START })));
      await consent.record('bo', { r000: 'granted' });
      // Ada's rows edited behind the library's back: her head's seal no longer matches.
      const [ada] = (await allStoredRecords(knex)).filter((r) => r.requirement === 'r001');
      await changeRecord(knex, Buffer.from(ada!.chain, 'hex'), 'r001', { version: 9 });
      clock.ms = START + DAY;
      expect(await consent.sweep()).to.deep.equal({ recorded: 1, refused: 1 });
      expect(errors.length).to.be.greaterThan(0);
    } finally {
      await consent.close();
      await knex.destroy();
      file.remove();
    }
  });
});
