import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { LIST_SEAL_HEX, listSeal, listSealMatches, type ListSealFields } from '../../lib/audit/list-seal';
import { audienceWorkers } from '../../lib/core/audience-pool';
import { audienceThreads } from '../../lib/core/audience-checks';
import { ConsentIntegrityError, type Consent } from '../../lib/index';
import { BACKENDS, memoryLogger, testConsent, type TestDatabase } from '../helpers/app';

async function listed(consent: Consent): Promise<{ ids: string[]; unreadable: number; error: unknown }> {
  const audience = consent.audience('analytics');
  const ids: string[] = [];
  try {
    for await (const id of audience) ids.push(id);
  } catch (error) {
    return { ids: ids.sort(), unreadable: audience.summary.unreadable, error };
  }
  return { ids: ids.sort(), unreadable: audience.summary.unreadable, error: null };
}

describe('the listing seal (pure)', () => {
  const key = Buffer.alloc(32, 3);
  const fields: ListSealFields = { chain: '0a0b0c0d0e0f1011', pseudonym: 'ab'.repeat(32), seq: 7, hash: 'cd'.repeat(32), id: '123', mac: 'ef'.repeat(16), records: '01020304', sealed: '75ff' };

  it('reads hex of either case and integers as numbers or decimal text alike', () => {
    const seal = listSeal(key, fields) as string;
    expect(seal).to.match(new RegExp(`^[0-9a-f]{${String(LIST_SEAL_HEX)}}$`));
    const upper = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? v.toUpperCase() : v])) as ListSealFields;
    expect(listSealMatches(key, { ...upper, seq: '7', id: 123 }, seal.toUpperCase())).to.equal(true);
  });

  it('fails for any field changed, a value that is not whole hex, or another key', () => {
    const seal = listSeal(key, fields) as string;
    for (const [name, value] of Object.entries({ chain: '0a0b0c0d0e0f1012', pseudonym: 'ab'.repeat(31), seq: 8, hash: 'cd'.repeat(31) + 'ce', id: '124', mac: 'ef'.repeat(15) + 'ee', records: '0102030405', sealed: '75fe' })) {
      expect(listSealMatches(key, { ...fields, [name]: value }, seal), name).to.equal(false);
    }
    // Values moved from one field to the next do not give the same text.
    expect(listSealMatches(key, { ...fields, records: '0102', sealed: '030475ff' }, seal)).to.equal(false);
    for (const bad of ['0x01', '012', 'zz', null, 5]) {
      expect(listSeal(key, { ...fields, records: bad }), String(bad)).to.equal(null);
      expect(listSealMatches(key, { ...fields, records: bad }, seal), String(bad)).to.equal(false);
    }
    for (const bad of [-1, 1.5, '01', 'x', null]) expect(listSeal(key, { ...fields, seq: bad }), String(bad)).to.equal(null);
    expect(listSealMatches(Buffer.alloc(32, 4), fields, seal)).to.equal(false);
    expect(listSealMatches(key, fields, seal.slice(1))).to.equal(false);
  });
});

for (const backend of BACKENDS) {
  backend.describe(`listing seals of subject rows (${backend.name}, pages judged on threads)`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    let consent: Consent;
    const savedWorkers = { size: audienceWorkers.size };
    const savedThreads = { ...audienceThreads };
    const key = (subject: string): Buffer => Buffer.from(consent.engine.pseudonym(subject), 'hex');
    const row = async (subject: string): Promise<Record<string, unknown>> =>
      ((await t.knex('consent_subjects').where({ pseudonym: key(subject) }).first()) as Record<string, unknown> | undefined) ?? {};
    const update = async (subject: string, values: Record<string, unknown>) => t.knex('consent_subjects').where({ pseudonym: key(subject) }).update(values);

    beforeEach(async () => {
      audienceWorkers.size = 2;
      Object.assign(audienceThreads, { minSubjects: 0, measuredPages: 0, mainBound: 1e9 });
      db = await backend.open();
      t = await testConsent(db, { logger: memoryLogger(), cache: false });
      consent = t.consent;
      await consent.record('ann', { analytics: 'granted' });
      await consent.record('bob', { analytics: 'granted' });
      await consent.import([{ subjectId: 'cy', requirement: 'analytics', decision: 'granted', at: Date.now() - 1000 }]);
    });
    afterEach(async () => {
      Object.assign(audienceWorkers, savedWorkers);
      Object.assign(audienceThreads, savedThreads);
      await t.close();
      await db.cleanup();
    });

    it('is stored by writes and imports that know the subject, over the row as stored, and cleared by erasure', async () => {
      for (const subject of ['ann', 'bob', 'cy']) {
        const stored = await row(subject);
        const head = (await t.knex('consent_events').where({ id: stored.head_id }).first()) as Record<string, unknown>;
        const fields = {
          chain: (stored.chain as Buffer).toString('hex'), pseudonym: (stored.pseudonym as Buffer).toString('hex'), seq: Number(head.seq), hash: (head.hash as Buffer).toString('hex'),
          id: String(stored.head_id), mac: (stored.head_mac as Buffer).toString('hex'), records: (stored.records as Buffer).toString('hex'), sealed: (stored.sealed_subject as Buffer).toString('hex'),
        };
        expect(listSealMatches(consent.engine.derivedKeys.chain, fields, (stored.list_seal as Buffer).toString('hex')), subject).to.equal(true);
      }
      await consent.erase('bob');
      expect(await t.knex('consent_subjects').whereNull('pseudonym').select('list_seal')).to.deep.equal([{ list_seal: null }]);
      expect((await listed(consent)).ids).to.deep.equal(['ann', 'cy']);
    });

    it('changes nothing a listing says when it fails or is missing: the head seal judges the row, and the id opens in full', async () => {
      await update('ann', { list_seal: randomBytes(16) });
      await update('cy', { list_seal: null });
      expect(await listed(consent)).to.deep.equal({ ids: ['ann', 'bob', 'cy'], unreadable: 0, error: null });
    });

    it("does not vouch for another row's stored id moved onto a row along with it", async () => {
      const ann = await row('ann');
      await update('bob', { list_seal: ann.list_seal, sealed_subject: ann.sealed_subject });
      expect(await listed(consent)).to.deep.equal({ ids: ['ann', 'cy'], unreadable: 1, error: null });
    });

    it('covers the head seal: a row whose head seal was changed fails as it does on the main thread', async () => {
      await update('ann', { head_mac: Buffer.alloc(16) });
      expect((await listed(consent)).error).to.be.instanceOf(ConsentIntegrityError);
    });
  });
}
