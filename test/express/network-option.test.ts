import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';

for (const backend of BACKENDS) {
  backend.describe(`network option (${backend.name})`, () => {
    let db: TestDatabase;
    beforeEach(async () => {
      db = await backend.open();
    });
    afterEach(() => db.cleanup());

    async function stored(network: 'none' | 'truncated' | 'full', forwarded: string): Promise<Array<{ ip: string | null; user_agent: string | null }>> {
      const t = await testConsent(db, { network });
      try {
        const app = routerApp(t.consent);
        app.set('trust proxy', true);
        await request(app).put('/consent/me/analytics').set('x-test-user', network).set('X-Forwarded-For', forwarded)
          .set('User-Agent', `agent/${network}`).send({ decision: 'granted' }).expect(200);
        return await t.knex.select('ip', 'user_agent').from('consent_events');
      } finally {
        await t.close();
      }
    }

    it("stores nothing with 'none'", async () => {
      expect(await stored('none', '203.0.113.77')).to.deep.equal([{ ip: null, user_agent: null }]);
    });

    it("stores the /24 or /48 and the User-Agent with 'truncated'", async () => {
      expect(await stored('truncated', '203.0.113.77')).to.deep.equal([{ ip: '203.0.113.0', user_agent: 'agent/truncated' }]);
    });

    it("stores the full address with 'full'", async () => {
      expect(await stored('full', '2001:db8:abcd:12::9')).to.deep.equal([{ ip: '2001:db8:abcd:12::9', user_agent: 'agent/full' }]);
    });
  });
}
