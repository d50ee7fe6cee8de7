import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, memoryLogger, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const as = (user: string) => ({ 'x-test-user': user });
const news = (description: string) => [{ id: 'news', title: 'Newsletter', description }];

for (const backend of BACKENDS) {
  backend.describe(`a text replaced by another process (${backend.name})`, () => {
    let db: TestDatabase;
    beforeEach(async () => { db = await backend.open(); });
    afterEach(async () => { await db.cleanup(); });

    it('a process still showing the text before is refused, so no proof cites a text the person never saw', async () => {
      const logger = memoryLogger();
      const before = await testConsent(db, { logger }, news('Once a month, with a typo.'));
      // Nobody answered version 1 yet: a process started with the corrected text replaces it.
      const after = await testConsent(db, {}, news('Once a month.'));
      try {
        const stale = routerApp(before.consent);
        expect((await request(stale).get('/consent/requirements')).body.requirements[0].description).to.equal('Once a month, with a typo.');
        expectProblem(await request(stale).put('/consent/me/news').set(as('ann')).send({ decision: 'granted', version: 1 }), 503, 'store_unavailable');
        expect(String(logger.errors.map((e) => (e as { message: string }).message))).to.include('not the text this process shows');
        expect((await after.consent.history('ann')).events).to.deep.equal([]);

        const current = routerApp(after.consent);
        expect((await request(current).put('/consent/me/news').set(as('bob')).send({ decision: 'granted', version: 1 })).status).to.equal(200);
        const receipt = await after.consent.receipt('bob');
        expect((await after.consent.text(receipt.decisions[0]?.textHash as string))?.texts.en?.description).to.equal('Once a month.');
      } finally {
        await before.close();
        await after.close();
      }
    });
  });
}
