import { expect } from 'chai';
import request from 'supertest';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { expectProblem } from '../helpers/problem';

const sqlite = BACKENDS[0] as (typeof BACKENDS)[number];

describe('requests to the admin console', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;

  beforeEach(async () => {
    db = await sqlite.open();
    t = await testConsent(db, { admin: { authorize: headerAdmin } });
    await t.consent.record('ann', { analytics: 'granted' });
  });
  afterEach(async () => {
    await t.close();
    await db.cleanup();
  });

  const PAGES = ['/consent/admin/console/', '/consent/admin/console/subject?id=ann', '/consent/admin/console/export?format=csv'];

  it('answers a query parameter a page does not take with 400 invalid_body naming it', async () => {
    const app = routerApp(t.consent);
    for (const page of PAGES) {
      const separator = page.includes('?') ? '&' : '?';
      const problem = expectProblem(await request(app).get(`${page}${separator}zzz=1`).set(ADMIN), 400, 'invalid_body');
      expect((problem.errors as Array<{ pointer: string }>).map((e) => e.pointer), page).to.deep.equal(['/zzz']);
      expect((await request(app).get(page).set(ADMIN)).status, page).to.equal(200);
    }
    expect((await request(app).get('/consent/admin/console/subject?id=ann&lang=de').set(ADMIN)).status).to.equal(200);
  });

  it('shows a browser its refusals as console pages, in its language; programs still get the problem', async () => {
    const app = routerApp(t.consent);
    const browser = (path: string) => request(app).get(path).set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    const bad = await browser('/consent/admin/console/?zzz=1').set(ADMIN).expect(400);
    expect(bad.headers['content-type']).to.match(/^text\/html/);
    expect(bad.text).to.include('<h1>').and.include('zzz').and.include('<nav class="ec-nav"');
    const refused = await browser('/consent/admin/console/subject').expect(403);
    expect(refused.headers['content-type']).to.match(/^text\/html/);
    expect(refused.text, 'the detail as a sentence').to.include('<p class="notice">The admin console needs authorization</p>');
    const german = await browser('/consent/admin/console/?lang=de').expect(403);
    expect(german.text).to.include('<html lang="de">').and.include('<h1>Nicht erlaubt</h1>').and.include('<p class="notice" lang="en">');
    expect(german.text, 'the link back to the site in German too').to.include('Zurück zur Website');
    expectProblem(await request(app).get('/consent/admin/console/?zzz=1').set(ADMIN), 400, 'invalid_body');
  });

  it('applies the body rules before authorization, like every admin route', async () => {
    const app = routerApp(t.consent);
    for (const page of PAGES) {
      expectProblem(await request(app).get(page).set(ADMIN).set('content-type', 'text/plain').send('x'), 415, 'unsupported_media_type');
      expectProblem(await request(app).get(page).set('content-type', 'text/plain').send('x'), 415, 'unsupported_media_type');
      expectProblem(await request(app).get(page).set(ADMIN).send({ note: 'x'.repeat(20_000) }), 413, 'payload_too_large');
      expectProblem(await request(app).get(page), 403, 'forbidden');
    }
  });
});
