import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { express4, headerSubject, memoryLogger, TEST_SECRET, type ExpressModule } from '../helpers/app';

const EXPRESS: Array<[string, ExpressModule]> = [['Express 5', express], ['Express 4', express4()]];

// Every bidirectional control that opens an embedding, override or isolate: the pages must not
// pass them on, raw or as a character reference. The marks (U+200E, U+200F, U+061C) open
// nothing and right-to-left text needs them: they pass unchanged.
const CONTROLS = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
const MARKS = ['\u200e', '\u200f', '\u061c'];
const RAW = /[\u202a-\u202e\u2066-\u2069]/;
const REFERENCE = /&#(x0*(202[a-e]|206[6-9])|0*(8234|8235|8236|8237|8238|8294|8295|8296|8297));/i;

/** "Invoice approved by " followed by a right-to-left override: "nimda" would read "admin". */
const TITLE = 'Invoice approved by \u202enimda\u202c';
const DESCRIPTION = `Every control: ${CONTROLS.join('x')}. Marks: ${MARKS.join('y')}.`;
const NOTE = 'refund \u2067\u202e0001\u2069 EUR';

function expectNeutralised(html: string): void {
  expect(RAW.exec(html)?.[0]?.codePointAt(0)?.toString(16), 'a raw bidi control').to.equal(undefined);
  expect(REFERENCE.exec(html)?.[0], 'a character reference to a bidi control').to.equal(undefined);
}

for (const [label, lib] of EXPRESS) {
  describe(`pages and fragments the library renders (${label})`, () => {
    let consent: Consent;
    let token = '';
    let app: express.Express;

    before(async () => {
      consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, subject: headerSubject, logger: memoryLogger(), admin: { authorize: headerAdmin } });
      consent.register([
        { id: 'invoice', title: TITLE, description: DESCRIPTION, url: 'https://example.com/\u202eevil', doubleOptIn: true },
        { id: 'plain', title: 'Plain', description: 'Nothing special.' },
      ]);
      consent.on('confirmation', (payload) => void (token = payload.token));
      await consent.ready();
      await consent.record('ann', { plain: 'granted' }, { note: NOTE });
      await consent.record('ann', { invoice: 'granted' });
      app = lib();
      app.use('/consent', consent.router());
    });
    after(() => consent.close());

    it('shows bidi controls in console titles and notes as code points, never raw', async () => {
      const overview = await request(app).get('/consent/admin/console/').set(ADMIN).expect(200);
      expectNeutralised(overview.text);
      expect(overview.text).to.contain('Invoice approved by [U+202E]nimda[U+202C]');
      const subject = await request(app).get('/consent/admin/console/subject?id=ann').set(ADMIN).expect(200);
      expectNeutralised(subject.text);
      expect(subject.text).to.contain('refund [U+2067][U+202E]0001[U+2069] EUR');
    });

    it('sends the console with base-uri, form-action and frame-ancestors in its CSP', async () => {
      for (const path of ['/consent/admin/console/', '/consent/admin/console/subject']) {
        const csp = (await request(app).get(path).set(ADMIN).expect(200)).headers['content-security-policy'] as string;
        expect(csp.split(/;\s*/), path).to.include.members(["default-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"]);
      }
    });

    it('neutralises them on the confirmation page too, which keeps its own CSP', async () => {
      const page = await request(app).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(200);
      expectNeutralised(page.text);
      expect(page.text).to.contain('<h2>Invoice approved by [U+202E]nimda[U+202C]</h2>');
      expect(page.text).to.contain('href="https://example.com/[U+202E]evil"');
      expect((page.headers['content-security-policy'] as string).split(/;\s*/)).to.include.members(["base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"]);
    });
  });
}

describe('formFields() with bidi controls', () => {
  it('renders them as code points in titles, descriptions, links, legends and link texts', async () => {
    const consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger() });
    consent.register({ id: 'invoice', title: TITLE, description: DESCRIPTION, url: '/terms?\u2066x' });
    await consent.ready();
    try {
      const html = consent.formFields('invoice', { legend: 'Your \u202bchoices', linkText: 'More \u200f' });
      expectNeutralised(html);
      expect(html).to.contain('<label for="consent-invoice">Invoice approved by [U+202E]nimda[U+202C] <span class="consent-need">(optional)</span></label>');
      expect(html).to.contain(`<legend>Your [U+202B]choices</legend>`);
      expect(html).to.contain('Every control: [U+202A]x[U+202B]x[U+202C]x[U+202D]x[U+202E]x[U+2066]x[U+2067]x[U+2068]x[U+2069]. Marks: \u200ey\u200fy\u061c.');
      expect(html).to.contain('More \u200f');
    } finally {
      await consent.close();
    }
  });
});
