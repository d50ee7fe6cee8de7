import { expect } from 'chai';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { allStoredRecords } from '../helpers/records';
import { expectAcknowledgedOnce, expectTablesIntact, listen, send, writesFor, type Answer } from './load';

for (const backend of BACKENDS) {
  backend.describe(`200 parallel HTTP writes (${backend.name})`, function (this: Mocha.Suite) {
    this.timeout(120_000);
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let server: Awaited<ReturnType<typeof listen>>;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db, { storeTimeoutMs: 60_000 });
      server = await listen(routerApp(t.consent));
    });
    afterEach(async () => {
      await server.close();
      await t.close();
      await db.cleanup();
    });

    async function checkSubject(subject: string, requirement: string, answers: Answer[]): Promise<void> {
      const { events, nextCursor } = await t.consent.history(subject, { requirement, limit: 200 });
      expect(nextCursor).to.equal(null);
      const current = (await t.consent.states(subject))[requirement]?.state as string;
      expectAcknowledgedOnce(answers, events, current);
    }

    it('for one subject and requirement: every acknowledged write is in history once, the chain holds', async () => {
      const writes = writesFor('ann', 'analytics', 200, 'one/');
      const answers = await Promise.all(writes.map((w) => send(server.base, w)));
      expect(answers.map((a) => a.status).filter((s) => s !== 200)).to.deep.equal([]);
      await checkSubject('ann', 'analytics', answers);
      expect((await t.consent.history('ann', { limit: 200 })).events).to.have.length(200);
      await expectTablesIntact(t.knex);
      expect(await allStoredRecords(t.knex)).to.have.length(1);
    });

    it('across 50 subjects and two requirements at once', async () => {
      const writes = Array.from({ length: 50 }, (_, i) => [
        ...writesFor(`s${String(i)}`, 'analytics', 2, 'many/'),
        ...writesFor(`s${String(i)}`, 'ads', 2, 'many/').map((w, j) => (j === 1 ? { ...w, kind: 'denied' as const, note: `${w.subject}/ads/deny` } : w)),
      ]).flat();
      expect(writes).to.have.length(200);
      const answers = await Promise.all(writes.map((w) => send(server.base, w)));
      expect(answers.map((a) => a.status).filter((s) => s !== 200)).to.deep.equal([]);
      for (let i = 0; i < 50; i += 1) {
        for (const requirement of ['analytics', 'ads']) {
          await checkSubject(`s${String(i)}`, requirement, answers.filter((a) => a.subject === `s${String(i)}` && a.requirement === requirement));
        }
      }
      await expectTablesIntact(t.knex);
      expect(await t.knex('consent_subjects').count({ n: '*' }).first().then((r) => Number(r?.n))).to.equal(50);
      expect(await allStoredRecords(t.knex)).to.have.length(100);
      expect(await t.knex('consent_events').count({ n: '*' }).first().then((r) => Number(r?.n))).to.equal(200);
    });
  });
}
