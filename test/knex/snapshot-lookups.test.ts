import { expect } from 'chai';
import { KnexTracker } from '../../lib/tracker';
import { eventAfter, grantedRecord, planOf, pseudonymFor } from '../../lib/testing/fixtures';
import { describeEachDatabase, type TestDatabase } from '../helpers/each-database';

describeEachDatabase('snapshots() looks many subjects up at once', (open) => {
  let db: TestDatabase;
  let tracker: KnexTracker;
  const pseudonyms = Array.from({ length: 40 }, (_, i) => pseudonymFor(`s${String(i)}`));

  beforeEach(async () => {
    db = await open();
    tracker = new KnexTracker(db.knex);
    await tracker.init({ migrate: true });
    for (const [i, pseudonym] of pseudonyms.entries()) {
      if (i % 4 === 3) continue;
      await tracker.write(pseudonym, (s) => ({ plan: planOf(s, [eventAfter(s, 1, { requirement: 'news' })], [grantedRecord('news')]), result: null }));
    }
  });
  afterEach(() => db.release());

  it('answers each pseudonym asked in order, repeats included, whatever form the list of them takes', async () => {
    const asked = [...pseudonyms].reverse();
    asked.splice(5, 0, pseudonyms[0] as string, pseudonyms[3] as string, pseudonyms[0] as string);
    const read = await tracker.snapshots(asked);
    expect(read.map((s) => s?.pseudonym ?? null)).to.deep.equal(asked.map((p) => (pseudonyms.indexOf(p) % 4 === 3 ? null : p)));
    for (const snapshot of read) if (snapshot !== null) expect(snapshot.records.map((r) => r.requirement)).to.deep.equal(['news']);
    // Values that are not 64 lowercase hex digits: no subject has them, and the others are found all the same.
    const odd = ['zz', (pseudonyms[1] as string).slice(0, 62), (pseudonyms[2] as string).toUpperCase(), `${pseudonyms[4] as string}00`];
    const mixed = await tracker.snapshots([pseudonyms[1] as string, ...odd, pseudonyms[2] as string]);
    expect(mixed.map((s) => s?.pseudonym ?? null)).to.deep.equal([pseudonyms[1], null, null, null, null, pseudonyms[2]]);
  });
});
