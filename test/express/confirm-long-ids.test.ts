import { expect } from 'chai';
import express, { type Request } from 'express';
import request from 'supertest';
import type { ConfirmationPayload } from '../../lib/index';
import { BACKENDS, express4, routerApp, testConsent, type ExpressModule, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

// Header values are Latin-1 on the wire: the subject travels percent-encoded.
const encodedSubject = (req: Request) => {
  const value = req.get('x-subject');
  return value === undefined ? undefined : decodeURIComponent(value);
};

// The longest subject ids (256 characters, code points) in scripts of every UTF-8 width.
const SUBJECTS: Array<[string, string]> = [
  ['256 × é (2 bytes each)', 'é'.repeat(256)],
  ['128 × 😀 (astral, 4 bytes each) and 128 × a', `${'😀'.repeat(128)}${'a'.repeat(128)}`],
  ['256 × 😀 (256 characters, 512 UTF-16 units, 4 bytes each)', '😀'.repeat(256)],
  ['256 × € (3 bytes each)', '€'.repeat(256)],
  ['256 CJK characters (3 bytes each)', '漢字'.repeat(128)],
  ['256 mixed characters ending in an astral one', `${'a€'.repeat(127)}b😀`],
];

const EXPRESS: Array<[string, () => ExpressModule]> = [
  ['Express 5', () => express],
  ['Express 4', express4],
];

for (const backend of BACKENDS) {
  for (const [label, lib] of EXPRESS) {
    backend.describe(`confirmation links for the longest subject ids (${backend.name}, ${label})`, () => {
      let db: TestDatabase;
      let t: Awaited<ReturnType<typeof testConsent>>;
      const links: ConfirmationPayload[] = [];

      before(async () => {
        db = await backend.open();
        t = await testConsent(db, { subject: encodedSubject });
        t.consent.on('confirmation', (payload) => void links.push(payload));
      });
      after(async () => {
        await t.close();
        await db.cleanup();
      });

      for (const [name, subject] of SUBJECTS) {
        it(`${name}: the link shows (GET) and confirms (POST)`, async () => {
          expect(Array.from(subject)).to.have.length(256);
          const app = routerApp(t.consent, lib());
          const as = { 'x-subject': encodeURIComponent(subject) };
          const asked = await request(app).put('/consent/me/newsletter').set(as).send({ decision: 'granted' }).expect(202);
          const link = links.at(-1) as ConfirmationPayload;
          expect(link).to.include({ subjectId: subject, requirement: 'newsletter', expiresAt: asked.body.expiresAt });

          const shown = await request(app).get(`/consent/confirm/${link.token}`).expect(200);
          expect(shown.body).to.include({ expiresAt: asked.body.expiresAt });
          expect(shown.body.requirement).to.include({ id: 'newsletter' });
          const page = await request(app).get(`/consent/confirm/${link.token}`).set('Accept', 'text/html').expect(200);
          expect(page.text).to.include(`action="/consent/confirm/${link.token}"`);

          const confirmed = await request(app).post(`/consent/confirm/${link.token}`).expect(200);
          expect(confirmed.body).to.include({ id: 'newsletter', state: 'granted', allowed: true });
          const me = await request(app).get('/consent/me').set(as).expect(200);
          expect(me.body.states.newsletter.state).to.equal('granted');
          expectProblem(await request(app).post(`/consent/confirm/${link.token}`), 404, 'token_invalid');
        });
      }

      it('the longest token is the documented maximum; longer or truncated tokens are token_invalid', async () => {
        const app = routerApp(t.consent, lib());
        const doc = (await request(app).get('/consent/openapi.json').expect(200)).body;
        const schema = doc.paths['/confirm/{token}'].parameters[0].schema as { minLength: number; maxLength: number };
        await request(app).put('/consent/me/newsletter').set({ 'x-subject': encodeURIComponent(`${'😀'.repeat(255)}𝄞`) }).send({ decision: 'granted' }).expect(202);
        const { token } = links.at(-1) as ConfirmationPayload;
        expect(token).to.have.length(schema.maxLength);
        await request(app).put('/consent/me/newsletter').set({ 'x-subject': 'a' }).send({ decision: 'granted' }).expect(202);
        expect((links.at(-1) as ConfirmationPayload).token).to.have.length(schema.minLength);
        for (const bad of [`${token}A`, `${token}${token}`, token.slice(0, -1)]) {
          expectProblem(await request(app).get(`/consent/confirm/${bad}`), 404, 'token_invalid');
          expectProblem(await request(app).post(`/consent/confirm/${bad}`), 404, 'token_invalid');
        }
        await request(app).post(`/consent/confirm/${token}`).expect(200);
      });
    });
  }
}
