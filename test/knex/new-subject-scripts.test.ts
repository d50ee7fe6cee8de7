import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, KnexTracker, type ChangePayload, type Consent } from '../../lib/index';
import { DEFAULT_PRAGMAS, sqlitePragmaHook } from '../../lib/knex/default-knex';
import { eventAfter, grantedRecord, planOf, pseudonymFor } from '../../lib/testing/fixtures';
import { statementsDuring } from '../helpers/count-statements';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const SECRET = 'n'.repeat(32);

for (const client of ['sqlite3', 'better-sqlite3'] as const) {
  describe(`writes of new subjects on SQLite, as one script (${client})`, () => {
    let file: ReturnType<typeof tempSqliteFile>;
    let knex: Knex;
    let consent: Consent;

    const open = async (on: Knex): Promise<Consent> => {
      const instance = createConsent({ knex: on, secret: SECRET, cache: false, storeTimeoutMs: 30_000 });
      instance.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open' });
      instance.register({ id: 'ads', title: 'Ads', description: 'Ads on what you read' });
      await instance.ready();
      return instance;
    };
    const people = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i)}`);
    const recordAll = (ids: string[], decision: 'granted' | 'denied' = 'granted') =>
      Promise.all(ids.map((id) => consent.record(id, { analytics: decision, ads: 'denied' })));
    const eventIds = async (): Promise<number[]> => ((await knex('consent_events').orderBy('id').pluck('id')) as Array<number | string>).map(Number);

    beforeEach(async () => {
      file = tempSqliteFile();
      knex = knexFactory({ ...sqliteKnexConfig(file.filename), client });
      consent = await open(knex);
    });
    afterEach(async () => {
      await consent.close();
      await knex.destroy();
      file.remove();
    });

    it('commit a group of new subjects in one script: BEGIN IMMEDIATE to COMMIT, nothing sent between', async () => {
      const fresh = people('fresh', 10);
      const sent = await statementsDuring(knex, /./, async () => { await recordAll(fresh); });
      expect(sent.filter((sql) => /^begin/i.test(sql))).to.deep.equal(sent.filter((sql) => /^begin immediate$/i.test(sql)));
      expect(sent.filter((sql) => /^begin/i.test(sql)).length).to.equal(sent.filter((sql) => /^commit$/i.test(sql)).length);
      // Every statement of a script is reported at once: nothing else sits between its BEGIN and COMMIT.
      const inside = sent.slice(sent.findIndex((sql) => /^begin/i.test(sql)), sent.findIndex((sql) => /^commit$/i.test(sql)) + 1);
      expect(inside.every((sql) => /^(begin immediate|pragma busy_timeout = \d+|commit|insert into)/i.test(sql)), inside.join('\n')).to.equal(true);
      for (const [i, id] of fresh.entries()) {
        expect((await consent.states(id)).analytics?.state, `${id} #${String(i)}`).to.equal('granted');
      }
      expect(await eventIds()).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await consent.verify()).to.deep.include({ ok: true, checked: 20, problems: [] });
    });

    it("write a durable handler's outbox entries in the script, each delivered once with its event's id", async () => {
      const delivered: ChangePayload[] = [];
      const mailing = createConsent({ knex, secret: SECRET, cache: false, storeTimeoutMs: 30_000, outbox: { pollMs: 50 } });
      mailing.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open' });
      mailing.register({ id: 'ads', title: 'Ads', description: 'Ads on what you read' });
      mailing.register({ id: 'news', title: 'News', description: 'A monthly letter', doubleOptIn: true });
      mailing.on('change', (payload) => void delivered.push(payload), { name: 'mailer' });
      // A confirmation link's entry belongs to no event (its event id is null).
      const links: string[] = [];
      mailing.on('confirmation', (payload) => void links.push(payload.subjectId), { name: 'links' });
      await mailing.ready();
      try {
        const fresh = people('mailed', 8);
        const sent = await statementsDuring(knex, /./, async () => {
          await Promise.all(fresh.map((id) => mailing.record(id, { analytics: 'granted', ads: 'denied', news: 'granted' })));
        });
        // Written as scripts only: no transaction of the usual way, and the entries inside them.
        expect(sent.filter((sql) => /^begin/i.test(sql)).every((sql) => /^begin immediate$/i.test(sql)), sent.join('\n')).to.equal(true);
        expect(sent.filter((sql) => /^insert into .consent_outbox/i.test(sql))).to.not.have.length(0);
        const expected = fresh.length * 3;
        for (let waited = 0; (delivered.length < expected || links.length < fresh.length) && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
        expect(delivered).to.have.length(expected);
        expect([...links].sort()).to.deep.equal([...fresh].sort());
        for (const id of fresh) {
          const events = (await mailing.history(id)).events;
          const mine = delivered.filter((d) => d.subjectId === id);
          expect(mine.map((d) => [d.requirement, d.action, d.eventId]).sort(), id).to.deep.equal(events.map((e) => [e.requirement, e.action, e.id]).sort());
        }
        expect(await knex('consent_outbox').count({ n: '*' }).first()).to.deep.equal({ n: 0 });
        expect(await mailing.verify()).to.deep.include({ ok: true, problems: [] });
      } finally {
        await mailing.close();
      }
    });

    it('write a group holding a stored subject the usual way, with the same ids and no gap', async () => {
      await recordAll(['stored']);
      const group = ['stored', ...people('new', 6)];
      await recordAll(group, 'denied');
      for (const id of group) expect((await consent.states(id)).analytics?.state).to.equal('denied');
      expect((await consent.history('stored')).events.map((e) => e.action)).to.deep.equal(['deny', 'withdraw', 'deny', 'grant']);
      // Ids reserved for the script that was rolled back are handed out again.
      expect(await eventIds()).to.deep.equal(Array.from({ length: 2 + group.length * 2 }, (_, i) => i + 1));
      expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
    });

    it('give new subjects ids above those another process sharing the file handed out meanwhile', async () => {
      await recordAll(people('before', 3));
      // Another process took ids 7 to 106 (and its events were deleted since): this one does not know.
      const other = knexFactory({ ...sqliteKnexConfig(file.filename), client });
      try {
        await other('sqlite_sequence').where({ name: 'consent_events' }).update({ seq: 106 });
      } finally {
        await other.destroy();
      }
      const later = people('after', 5);
      await recordAll(later);
      const ids = await eventIds();
      expect(ids.slice(0, 6)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(ids.slice(6)).to.deep.equal(Array.from({ length: 10 }, (_, i) => 107 + i));
      for (const id of later) expect((await consent.states(id)).analytics?.state).to.equal('granted');
      expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
    });

    it('fails every write of a script whose transaction SQLite ended itself, and writes none of them twice', async () => {
      // A statement that rolls the whole transaction back: the script cannot tell whether it
      // committed. (Only a script inserts subject rows with heads whose events come after them:
      // the usual way would pass.)
      await knex.raw(
        "create trigger refuse_boom before insert on consent_subjects when new.head_id is not null and not exists (select 1 from consent_events where id = new.head_id) begin select raise(rollback, 'refused'); end",
      );
      const group = people('ended', 4);
      const settled = await Promise.allSettled(group.map((id) => consent.record(id, { analytics: 'granted' })));
      expect(settled.map((s) => s.status)).to.deep.equal(group.map(() => 'rejected'));
      expect(await eventIds()).to.deep.equal([]);
      await knex.raw('drop trigger refuse_boom');
      await recordAll(group);
      expect((await eventIds()).length).to.equal(group.length * 2);
      expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
    });

    it('give back the ids of a group given up after some of its subjects reserved theirs', async () => {
      const tracker = new KnexTracker(knex);
      await tracker.init({ migrate: true });
      const good = (s: Parameters<typeof planOf>[0]) => ({ plan: planOf(s, [eventAfter(s, 1)], [grantedRecord('analytics')]), result: null });
      const refuse = (): never => { throw new Error('refused by its planner'); };
      // 99 planned and given ids, then one refusing, sorted after them (another slice).
      const pseudonyms = Array.from({ length: 99 }, (_, i) => pseudonymFor(`slice-${String(i)}`)).sort();
      const last = 'f'.repeat(64);
      const settled = await Promise.allSettled([...pseudonyms.map((p) => tracker.write(p, good)), tracker.write(last, refuse)]);
      expect(settled.filter((o) => o.status === 'fulfilled')).to.have.length(99);
      expect(settled.at(-1)?.status).to.equal('rejected');
      const before = await eventIds();
      expect(before).to.deep.equal(Array.from({ length: before.length }, (_, i) => i + 1));
      expect(before.length).to.be.at.least(99);
    });

    it('write a subject erased before as a new one, and leave a refused write to fail alone', async () => {
      await recordAll(['erased']);
      await consent.erase('erased');
      const settled = await Promise.allSettled([
        consent.record('erased', { analytics: 'granted' }),
        consent.record('unknown-requirement', { nothing: 'granted' }),
        ...people('beside', 3).map((id) => consent.record(id, { analytics: 'granted' })),
      ]);
      expect(settled.map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect((await consent.states('erased')).analytics?.state).to.equal('granted');
      expect((await consent.history('erased')).events).to.have.length(1);
      expect(await consent.verify()).to.deep.include({ ok: true, problems: [] });
    });
  });
}

// The lock is held by another connection of this process: through the synchronous driver the
// wait would block the event loop, and the holder could never let go. The order of the steps
// (the lock, then the file check and the plans) is the same for both drivers.
for (const client of ['sqlite3'] as const) {
  describe(`writes of new subjects on SQLite that wait for another process's lock (${client}, the default pragmas)`, () => {
    let file: ReturnType<typeof tempSqliteFile>;
    let knex: Knex;
    let holder: Knex;
    let consent: Consent;
    const on = (): Knex => knexFactory({ client, connection: { filename: file.filename }, useNullAsDefault: true, pool: { min: 1, max: 1, afterCreate: sqlitePragmaHook(client, DEFAULT_PRAGMAS) } });

    beforeEach(async () => {
      file = tempSqliteFile();
      knex = on();
      holder = on();
    });
    afterEach(async () => {
      await consent.close();
      await knex.destroy();
      await holder.destroy();
      file.remove();
    });

    /** Holds the write lock from another connection while `step` runs for `ms`, then lets go. */
    async function whileLocked<T>(ms: number, step: () => Promise<T>): Promise<PromiseSettledResult<T>> {
      const connection = (await holder.client.acquireConnection()) as never;
      const run = (sql: string) => holder.raw(sql).connection(connection);
      await run('BEGIN IMMEDIATE');
      try {
        const settled = Promise.allSettled([step()]);
        await new Promise((resolve) => setTimeout(resolve, ms));
        await run('ROLLBACK');
        return (await settled)[0];
      } finally {
        await holder.client.releaseConnection(connection);
      }
    }

    it('refuse a write once the database file was removed while it waited for the lock', async () => {
      consent = createConsent({ knex, secret: SECRET, cache: false, storeTimeoutMs: 30_000, logger: { warn: () => undefined, error: () => undefined } });
      consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open' });
      await consent.ready();
      const settled = await whileLocked(200, async () => {
        const write = consent.record('new-person', { analytics: 'granted' });
        await new Promise((resolve) => setTimeout(resolve, 100));
        file.remove();
        return write;
      });
      expect(settled.status).to.equal('rejected');
    });

    it('refuse writes of new subjects once the database file was removed, though the lock was free', async () => {
      consent = createConsent({ knex, secret: SECRET, cache: false, storeTimeoutMs: 30_000, logger: { warn: () => undefined, error: () => undefined } });
      consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open' });
      await consent.ready();
      await consent.record('first', { analytics: 'granted' });
      file.remove();
      const settled = await Promise.allSettled(['a', 'b', 'c'].map((id) => consent.record(`gone-${id}`, { analytics: 'granted' })));
      expect(settled.map((o) => o.status)).to.deep.equal(['rejected', 'rejected', 'rejected']);
    });

    it('refuse a write that got the lock only after its deadline, and write nothing of it', async () => {
      consent = createConsent({ knex, secret: SECRET, cache: false, storeTimeoutMs: 300, logger: { warn: () => undefined, error: () => undefined } });
      consent.register({ id: 'analytics', title: 'Analytics', description: 'Pages you open' });
      await consent.ready();
      const settled = await whileLocked(1000, () => consent.record('late-person', { analytics: 'granted' }));
      expect(settled.status).to.equal('rejected');
      // Let the write reach its plan, then read.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await consent.states('late-person')).analytics?.state).to.equal('unset');
      expect(await knex('consent_events').count('* as n')).to.deep.equal([{ n: 0 }]);
      // The script took the lock without waiting, and put the connection's busy timeout back.
      expect(await knex.raw('PRAGMA busy_timeout')).to.deep.equal([{ timeout: 5000 }]);
    });
  });
}
