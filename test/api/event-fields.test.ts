import { expect } from 'chai';
import request from 'supertest';
import type { ConsentEvent } from '../../lib/index';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';

// Every member of a public event; the type check below fails when `ConsentEvent` gains one
// that this list (and so the assertion on what callers see) does not name.
const PUBLIC_FIELDS = ['id', 'requirement', 'version', 'action', 'state', 'source', 'actor', 'at', 'note', 'data', 'context', 'locale'] as const;
type Unlisted = Exclude<keyof ConsentEvent, (typeof PUBLIC_FIELDS)[number]>;
const everyFieldListed: [Unlisted] extends [never] ? true : never = true;

for (const backend of BACKENDS) {
  backend.describe(`an event's fields (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('reach callers with what was written, and nothing stored beside them', async () => {
      expect(everyFieldListed).to.equal(true);
      const app = routerApp(t.consent);
      await request(app)
        .put('/consent/me/analytics')
        .set('x-test-user', 'ann')
        .set('User-Agent', 'probe/1.0')
        .send({ decision: 'granted', note: 'from the banner', data: { banner: 'v2' }, context: 'banner v2' })
        .expect(200);
      await t.consent.record('ann', { analytics: 'denied' }, { source: 'admin', actor: 'ops-7' });

      const res = await request(app).get('/consent/me/history').set('x-test-user', 'ann').expect(200);
      const events = (res.body as { events: Record<string, unknown>[] }).events;
      expect(events).to.have.length(2);
      for (const event of events) expect(Object.keys(event).sort()).to.deep.equal([...PUBLIC_FIELDS].sort());
      const [denied, granted] = events as [Record<string, unknown>, Record<string, unknown>];
      expect(granted).to.deep.include({ requirement: 'analytics', version: 1, action: 'grant', state: 'granted', actor: null, note: 'from the banner', context: 'banner v2' });
      expect(granted.data).to.deep.equal({ banner: 'v2' });
      expect(denied).to.deep.include({ action: 'withdraw', state: 'denied', source: 'admin', actor: 'ops-7', note: null, data: null, context: null });
      for (const event of events) expect(new Date(event.at as string).toISOString()).to.equal(event.at);
      expect((await t.consent.history('ann')).events).to.deep.equal(events);
    });
  });
}
