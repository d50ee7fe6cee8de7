import { expect } from 'chai';
import { seal } from '../../lib/audit/aead';
import { audienceWorkers } from '../../lib/core/audience-pool';
import { audienceThreads } from '../../lib/core/audience-checks';
import type { Consent } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';
import { statementsDuring as statementsOf } from '../helpers/count-statements';

async function list(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of iterable) out.push(id);
  return out.sort();
}

// Once on the main thread alone, once with threads judging every page.
for (const [backend, threads] of BACKENDS.flatMap((b) => [[b, false], [b, true]] as const)) {
  backend.describe(`stored subject ids (${backend.name}${threads ? ', judged on threads' : ''})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    const key = (subject: string): Buffer => Buffer.from(consent.engine.pseudonym(subject), 'hex');
    const subjectRow = async (subject: string): Promise<Record<string, unknown>> => {
      const row: Record<string, unknown> | undefined = await t.knex('consent_subjects').where({ pseudonym: key(subject) }).first();
      return row ?? {};
    };
    const chainOf = async (subject: string): Promise<Buffer> => (await subjectRow(subject)).chain as Buffer;
    const statementsDuring = (pattern: RegExp, step: () => Promise<void>): Promise<string[]> => statementsOf(t.knex, pattern, step);
    const sealedOf = async (subject: string): Promise<Buffer | null> => (await subjectRow(subject)).sealed_subject as Buffer | null;

    const savedWorkers = { size: audienceWorkers.size };
    const savedThreads = { ...audienceThreads };

    beforeEach(async () => {
      if (threads) {
        audienceWorkers.size = 2;
        Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });
      }
      db = await backend.open();
      t = await testConsent(db);
      consent = t.consent;
    });
    afterEach(async () => {
      Object.assign(audienceWorkers, savedWorkers);
      Object.assign(audienceThreads, savedThreads);
      await t.close();
      await db.cleanup();
    });

    it('stores the id encrypted, never in clear, and removes it on erasure', async () => {
      await consent.record('ann@example.com', { analytics: 'granted' });
      const sealed = await sealedOf('ann@example.com');
      expect(Buffer.isBuffer(sealed)).to.equal(true);
      expect((sealed as Buffer).toString('latin1')).not.to.include('ann@example.com');
      const chain = await chainOf('ann@example.com');
      await consent.erase('ann@example.com');
      const row: Record<string, unknown> | undefined = await t.knex('consent_subjects').where({ chain }).first('sealed_subject', 'pseudonym');
      expect(row).to.deep.equal({ sealed_subject: null, pseudonym: null });
    });

    it('skips and counts subjects recorded before ids were stored; a new decision or rememberSubject() fills the id in', async () => {
      await consent.record('ann', { analytics: 'granted' });
      await consent.record('bob', { analytics: 'granted' });
      await consent.record('cy', { analytics: 'granted' });
      await consent.import([{ subjectId: 'dee', requirement: 'analytics', decision: 'granted', at: new Date(Date.now() - 1000) }]);
      // As a store migrated from the previous release holds them: no id on the subject rows.
      await t.knex('consent_subjects').whereIn('pseudonym', ['bob', 'cy', 'dee'].map(key)).update({ sealed_subject: null });
      const audience = consent.audience('analytics');
      expect(await list(audience)).to.deep.equal(['ann']);
      expect(audience.summary).to.deep.equal({ listed: 1, skipped: 3, unreadable: 0, done: true });

      await consent.record('bob', { ads: 'granted' });
      expect(await consent.rememberSubject('cy')).to.equal(true);
      expect(await consent.rememberSubject('nobody')).to.equal(false);
      expect(await t.knex('consent_subjects').where({ pseudonym: key('nobody') }).first()).to.equal(undefined);
      const again = consent.audience('analytics');
      expect(await list(again)).to.deep.equal(['ann', 'bob', 'cy']);
      expect(again.summary).to.include({ listed: 3, skipped: 1 });
      // filterAllowed works by pseudonym: a subject without a stored id is found all the same.
      const allowed: string[] = [];
      for await (const id of consent.filterAllowed(['dee', 'zed'], 'analytics')) allowed.push(id);
      expect(allowed).to.deep.equal(['dee']);
    });

    it('stores exactly the id\'s bytes (SIV), whether recorded, imported or remembered', async () => {
      await consent.record('ann@example.com', { analytics: 'granted' });
      await consent.import([{ subjectId: 'bob', requirement: 'analytics', decision: 'granted', at: new Date(Date.now() - 1000) }]);
      await consent.record('cy', { analytics: 'granted' });
      await t.knex('consent_subjects').where({ pseudonym: key('cy') }).update({ sealed_subject: null });
      expect(await consent.rememberSubject('cy')).to.equal(true);
      expect((await sealedOf('ann@example.com'))?.length).to.equal('ann@example.com'.length);
      expect((await sealedOf('bob'))?.length).to.equal(3);
      expect((await sealedOf('cy'))?.length).to.equal(2);
      expect(await list(consent.audience('analytics'))).to.deep.equal(['ann@example.com', 'bob', 'cy']);
    });

    it('lists ids an earlier release sealed (AES-256-GCM, bound to the chain), and stores the SIV on the next write', async () => {
      await consent.record('ann', { analytics: 'granted' });
      await consent.record('bob', { analytics: 'granted' });
      const earlier = async (subject: string): Promise<void> => {
        const chain = (await chainOf(subject)).toString('hex');
        const sealed = seal(consent.engine.derivedKeys.subject, subject, Buffer.from(chain, 'utf8'));
        await t.knex('consent_subjects').where({ pseudonym: key(subject) }).update({ sealed_subject: sealed });
      };
      await earlier('ann');
      await earlier('bob');
      expect((await sealedOf('ann'))?.length).to.equal(3 + 28);
      const audience = consent.audience('analytics');
      expect(await list(audience)).to.deep.equal(['ann', 'bob']);
      expect(audience.summary).to.deep.equal({ listed: 2, skipped: 0, unreadable: 0, done: true });
      await consent.record('ann', { ads: 'granted' });
      expect((await sealedOf('ann'))?.length).to.equal(3);
      expect(await list(consent.audience('analytics'))).to.deep.equal(['ann', 'bob']);
      // An earlier release's value copied onto another subject's row does not open there either.
      await t.knex('consent_subjects').where({ chain: await chainOf('ann') }).update({ sealed_subject: await sealedOf('bob') });
      const moved = consent.audience('analytics');
      expect(await list(moved)).to.deep.equal(['bob']);
      expect(moved.summary).to.include({ listed: 1, unreadable: 1 });
    });

    it('does not open an id moved to another subject row: it is counted, never listed under the wrong subject', async () => {
      await consent.record('ann', { analytics: 'granted' });
      await consent.record('bob', { analytics: 'granted' });
      // Someone with write access copies ann's sealed id onto bob's row.
      await t.knex('consent_subjects').where({ chain: await chainOf('bob') }).update({ sealed_subject: await sealedOf('ann') });
      const audience = consent.audience('analytics');
      expect(await list(audience)).to.deep.equal(['ann']);
      expect(audience.summary).to.deep.equal({ listed: 1, skipped: 0, unreadable: 1, done: true });
    });

    it('reads the subjects in batches, in constant memory: one query per batch', async () => {
      const items = Array.from({ length: 250 }, (_, i) => ({ subjectId: `u${String(i)}`, requirement: 'analytics', decision: 'granted', at: new Date(Date.now() - 1000) }));
      await consent.import(items);
      const queries = await statementsDuring(/sealed_subject/, async () => {
        expect(await list(consent.audience('analytics', { batchSize: 100 }))).to.have.length(250);
      });
      expect(queries).to.have.length(3);
    });

    it('reads subjects with several records in one statement per page and per lookup, records in requirement order', async () => {
      const at = new Date(Date.now() - 1000);
      // Each subject decides in an order other than the requirements' own.
      const items = Array.from({ length: 250 }, (_, i) => ['terms', 'ads', 'analytics'].map((requirement) => ({ subjectId: `u${String(i)}`, requirement, decision: 'granted', at }))).flat();
      await consent.import(items);
      // The statements reading the subjects' records (each subject's, in its row's `records`).
      const readsRecords = /[`"]records[`"]/;
      const pages = await statementsDuring(readsRecords, async () => {
        expect(await list(consent.audience('analytics', { batchSize: 100 }))).to.have.length(250);
      });
      expect(pages, 'a page read again the plain way').to.have.length(3);
      const ids = Array.from({ length: 250 }, (_, i) => `u${String(i)}`);
      const lookups = await statementsDuring(readsRecords, async () => {
        expect(await list(consent.filterAllowed(ids, 'ads'))).to.have.length(250);
      });
      expect(lookups, 'a lookup read again the plain way').to.have.length(1);
      const [entry] = await (t.consent.engine.tracker as unknown as { audience(q: object): Promise<Array<{ snapshot: { records: Array<{ requirement: string }> } }>> }).audience({ requirement: 'analytics', limit: 1 });
      expect(entry?.snapshot.records.map((r) => r.requirement)).to.deep.equal(['ads', 'analytics', 'terms']);
    });
  });
}
