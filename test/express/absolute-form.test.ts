import { expect } from 'chai';
import express from 'express';
import { createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { express4, headerSubject, memoryLogger, TEST_SECRET, type ExpressModule } from '../helpers/app';
import { requestTarget, type RawResponse } from '../helpers/raw-target';

const EXPRESS: Array<[string, ExpressModule]> = [['Express 5', express], ['Express 4', express4()]];
const HTML = { accept: 'text/html,application/xhtml+xml' };

function expectProblemText(res: RawResponse, status: number, code: string): void {
  expect(res.status, res.text).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
  expect(JSON.parse(res.text)).to.include({ code, status, type: `urn:express-consent:${code}` });
}

for (const [label, lib] of EXPRESS) {
  describe(`absolute-form request targets and mount paths (${label})`, () => {
    let consent: Consent;
    let tokens: Array<{ token: string; url: string }>;

    beforeEach(async () => {
      consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, subject: headerSubject, logger: memoryLogger(), admin: { authorize: headerAdmin } });
      consent.register([
        { id: 'analytics', title: 'Usage analytics', description: 'Pages you open.' },
        { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.', doubleOptIn: true },
      ]);
      tokens = [];
      consent.on('confirmation', ({ token, url }) => void tokens.push({ token, url }));
      await consent.ready();
    });
    afterEach(() => consent.close());

    function app(mount = '/consent'): express.Express {
      const host = lib();
      host.use(mount, consent.router());
      host.get('/page', consent.requireConsent('analytics', { redirect: '/ask' }), (_req, res) => void res.send('page'));
      host.get('/page2', consent.requireConsent('analytics', { redirect: '/ask?from=page2' }), (_req, res) => void res.send('page2'));
      return host;
    }

    it('redirects the console to its slash under the mount path, not to the host of the target', async () => {
      const absolute = await requestTarget(app(), 'http://evil.example/consent/admin/console', ADMIN);
      expect(absolute.status).to.equal(301);
      expect(absolute.headers.location).to.equal('/consent/admin/console/');
      const plain = await requestTarget(app(), '/consent/admin/console?lang=de', ADMIN);
      expect(plain.headers.location).to.equal('/consent/admin/console/?lang=de');
      const withQuery = await requestTarget(app(), 'http://evil.example/consent/admin/console?lang=de', ADMIN);
      expect(withQuery.headers.location).to.equal('/consent/admin/console/?lang=de');
      expect((await requestTarget(app(), 'http://evil.example/consent/admin/console/', ADMIN)).status).to.equal(200);
    });

    it('posts the confirmation form to the mount path, not to the host of the target', async () => {
      await consent.record('ann', { newsletter: 'granted' });
      const { token } = tokens[0]!;
      const page = await requestTarget(app(), `http://evil.example/consent/confirm/${token}`, HTML);
      expect(page.status).to.equal(200);
      expect(page.text).to.include(`<form method="post" action="/consent/confirm/${token}">`).and.not.include('evil.example');
      expect((await consent.states('ann')).newsletter!.state).to.equal('pending');
    });

    it("gives the guard's next the path and query of an absolute-form target", async () => {
      const as = { ...HTML, 'x-test-user': 'ann' };
      const absolute = await requestTarget(app(), 'http://evil.example/page?x=1', as);
      expect(absolute.status).to.equal(303);
      expect(absolute.headers.location).to.equal('/ask?next=%2Fpage%3Fx%3D1');
      expect((await requestTarget(app(), '/page?x=1', as)).headers.location).to.equal('/ask?next=%2Fpage%3Fx%3D1');
      expect((await requestTarget(app(), 'https://evil.example:8443/page2', as)).headers.location).to.equal('/ask?from=page2&next=%2Fpage2');
    });

    it('refuses a mount path whose parameter leads off-site (400), and never links to it', async () => {
      const tenant = app('/:tenant/consent');
      await requestTarget(tenant, '/acme/consent/requirements').then((res) => expect(res.status).to.equal(200));
      expectProblemText(await requestTarget(tenant, '/\\evil.example/consent/admin/console', ADMIN), 400, 'invalid_body');
      await consent.record('ann', { newsletter: 'granted' });
      const { token } = tokens[0]!;
      const confirm = await requestTarget(tenant, `/\\evil.example/consent/confirm/${token}`);
      expect(confirm.status).to.equal(200);
      const page = await requestTarget(tenant, `/\\evil.example/consent/confirm/${token}`, HTML);
      expect(page.status).to.equal(400);
      expect(page.text).to.include('This link cannot be used').and.not.include('<form');
      await consent.record('bob', { newsletter: 'granted' });
      expect(tokens.map((t) => t.url.slice(0, t.url.lastIndexOf('/')))).to.deep.equal(['/acme/consent/confirm', '/acme/consent/confirm']);
    });
  });
}
