import { expect } from 'chai';
import request from 'supertest';
import knexFactory from 'knex';
import { createConsent, textHashOf, verifyReceipt, type CollectedConsent, type ConfirmationPayload } from '../../lib/index';
import { BACKENDS, TEST_SECRET, expressModule, headerSubject, memoryLogger, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { expectProblem } from '../helpers/problem';
import { INFO, TEXTS_REQUIREMENTS } from '../helpers/texts';

const as = (user: string) => ({ 'x-test-user': user });

for (const backend of BACKENDS) {
  backend.describe(`texts people understand (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;
    const links: ConfirmationPayload[] = [];

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db, {}, TEXTS_REQUIREMENTS);
      links.length = 0;
      t.consent.on('confirmation', (payload) => void links.push(payload));
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    it('GET /requirements negotiates the locale: ?lang first, then Accept-Language by q-value, then the default', async () => {
      const app = routerApp(t.consent);
      const list = async (query: string, header?: string) => {
        const req = request(app).get(`/consent/requirements${query}`);
        if (header !== undefined) req.set('Accept-Language', header);
        const res = await req.expect(200);
        return res;
      };
      const plain = await list('');
      expect(plain.body.locale).to.equal('en');
      expect(plain.body.requirements[0]).to.include({ locale: 'en', title: 'Statistics', url: '/privacy', defaultLocale: 'en' });
      expect(plain.body.requirements[0].locales).to.deep.equal(['en', 'de', 'fr']);

      const weighed = await list('', 'fr;q=0.5, de;q=0.9, *;q=0.1');
      expect(weighed.body.locale).to.equal('de');
      expect(weighed.headers['content-language']).to.equal('de');
      expect(weighed.headers.vary).to.match(/Accept-Language/i);
      expect(weighed.body.requirements[0]).to.include({ locale: 'de', title: 'Statistik', description: 'Wir zählen Seitenaufrufe.', url: '/datenschutz', retention: '13 Monate' });
      expect(weighed.body.requirements[0].purposes).to.deep.equal(['Die Website verbessern']);
      // A locale-specific field falls back to the shared one.
      expect(weighed.body.requirements[0].controller).to.deep.equal(INFO.controller);
      // A requirement without German says which locale it answers in.
      expect(weighed.body.requirements[1]).to.include({ locale: 'en', title: 'Newsletter' });

      expect((await list('?lang=fr', 'de')).body.requirements[0]).to.include({ locale: 'fr', title: 'Statistiques' });
      expect((await list('', 'de-AT, en;q=0.5')).body.requirements[0].locale).to.equal('de');
      expect((await list('', 'es, it;q=0.8')).body.locale).to.equal('en');
      expect((await list('', 'de;q=0, fr')).body.locale).to.equal('fr');
      expect((await list('?lang=es', 'fr;q=0.2')).body.locale).to.equal('fr');

      const bad = await request(app).get('/consent/requirements?lang=de_DE!').expect(400);
      expect(expectProblem(bad, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/lang', detail: 'must be a language tag such as "de" or "pt-BR"' }]);
    });

    it('problems speak the request\'s language', async () => {
      const app = routerApp(t.consent);
      const de = await request(app).put('/consent/me/nope').set(as('ann')).set('Accept-Language', 'de-CH, en;q=0.3').send({ decision: 'granted' });
      expect(expectProblem(de, 404, 'unknown_requirement').title).to.equal('Unbekannter Zweck');
      expect(de.headers['content-language']).to.equal('de');
      const fr = await request(app).put('/consent/me/nope?lang=fr').set(as('ann')).send({ decision: 'granted' });
      expect(fr.body.title).to.equal('Finalité inconnue');

      const guarded = expressModule()();
      guarded.get('/stats', t.consent.requireConsent('stats'), (_req, res) => { res.send('ok'); });
      const refused = await request(guarded).get('/stats').set(as('ann')).set('Accept-Language', 'de');
      expect(expectProblem(refused, 403, 'consent_required').title).to.equal('Einwilligung erforderlich');
      expect(refused.body.detail).to.equal('Dafür ist Ihre Einwilligung nötig: „Statistik“.');
      expect(refused.body.missing).to.deep.equal([{ id: 'stats', state: 'unset', reason: 'unset', title: 'Statistik', url: '/datenschutz' }]);
    });

    it('a decision records the locale shown; the chain covers it', async () => {
      const app = routerApp(t.consent);
      await request(app).put('/consent/me/stats').set(as('ann')).send({ decision: 'granted', locale: 'de' }).expect(200);
      await request(app).post('/consent/me').set(as('ann')).send({ decisions: { stats: { decision: 'denied', locale: 'FR' }, letter: 'granted' } }).expect(200);
      await t.consent.record('ann', { stats: 'granted' });
      const { events } = await t.consent.history('ann');
      expect(events.map((e) => [e.requirement, e.action, e.locale])).to.deep.equal([
        ['stats', 'grant', 'en'],
        ['letter', 'request', 'en'],
        ['stats', 'withdraw', 'fr'],
        ['stats', 'grant', 'de'],
      ]);
      expect((await t.consent.verify()).ok).to.equal(true);

      await t.knex('consent_events').where({ requirement: 'stats', locale: 'de' }).update({ locale: 'en' });
      const tampered = await t.consent.verify();
      expect(tampered.ok).to.equal(false);
      expect(tampered.problems.map((p) => p.kind)).to.include('modified');
    });

    it('a locale the version does not have is 400 and records nothing', async () => {
      const app = routerApp(t.consent);
      const put = await request(app).put('/consent/me/stats').set(as('ann')).send({ decision: 'granted', locale: 'es' });
      expect(expectProblem(put, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/locale', detail: '"es" is not a locale of this text (en, de, fr)' }]);
      const post = await request(app).post('/consent/me').set(as('ann')).send({ decisions: { stats: 'granted', letter: { decision: 'granted', locale: 'de' } } });
      expect(expectProblem(post, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/decisions/letter/locale', detail: '"de" is not a locale of this text (en)' }]);
      const malformed = await request(app).put('/consent/me/stats').set(as('ann')).send({ decision: 'granted', locale: 42 });
      expect(expectProblem(malformed, 400, 'invalid_body').errors).to.deep.equal([{ pointer: '/locale', detail: 'must be a language tag such as "de"' }]);
      expect((await t.consent.history('ann')).events).to.deep.equal([]);
      expect((await t.consent.states('ann')).stats?.state).to.equal('unset');
    });

    it('every locale is part of the text: its hash, and the lock once people answered', async () => {
      await t.consent.record('ann', { stats: 'granted' });
      const changedGerman = TEXTS_REQUIREMENTS.map((def) => def.id !== 'stats' ? def : {
        ...def, texts: { ...def.texts, de: { title: 'Statistik', description: 'Wir zählen Seitenaufrufe genauer.' } },
      });
      const knex = knexFactory(db.config);
      const other = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger() });
      other.register(changedGerman);
      try {
        await other.ready();
        expect.fail('ready() should refuse a changed German text');
      } catch (error) {
        expect(error).to.have.property('code', 'text_changed');
      } finally {
        await other.close();
        await knex.destroy();
      }
      const hash = (await t.consent.receipt('ann')).decisions[0]?.textHash as string;
      const text = await t.consent.text(hash);
      if (text === null) throw new Error('the text of a receipt must be retrievable');
      expect(textHashOf(text)).to.equal(hash);
      const de = text.texts.de as NonNullable<(typeof text.texts)[string]>;
      expect(textHashOf({ ...text, texts: { ...text.texts, de: { ...de, description: 'Wir zählen Seitenaufrufe genauer.' } } })).to.not.equal(hash);
      expect(textHashOf({ ...text, texts: { ...text.texts, de: { ...de, retention: '14 Monate' } } })).to.not.equal(hash);
    });

    it('exports hold the full text in the locale shown; receipts its hash and locale; text(hash) and GET /texts/:hash return it', async () => {
      const app = routerApp(t.consent);
      await request(app).put('/consent/me/stats').set(as('ann')).send({ decision: 'granted', locale: 'de' }).expect(200);
      await request(app).put('/consent/me/letter').set(as('ann')).send({ decision: 'denied' }).expect(200);

      const exported = await request(app).get('/consent/me/export').set(as('ann')).expect(200);
      const texts = exported.body.texts as Array<Record<string, unknown>>;
      expect(texts).to.have.length(2);
      expect(texts[0]).to.deep.include({
        requirement: 'stats', version: 1, locale: 'de', title: 'Statistik', description: 'Wir zählen Seitenaufrufe.', url: '/datenschutz',
        controller: INFO.controller, purposes: ['Die Website verbessern'], dataCategories: null, recipients: null, retention: '13 Monate', transfers: null,
      });
      expect(texts[1]).to.deep.include({ requirement: 'letter', version: 1, locale: 'en', title: 'Newsletter', description: 'A monthly e-mail.' });
      expect(exported.body.events.map((e: { locale: string }) => e.locale)).to.deep.equal(['de', 'en']);
      const library = await t.consent.export('ann');
      expect({ ...library, exportedAt: null }).to.deep.equal({ ...exported.body, exportedAt: null });

      const receipt = await request(app).get('/consent/me/receipt').set(as('ann')).expect(200);
      expect(verifyReceipt(receipt.body, t.consent.publicKey)).to.equal(true);
      const stats = (receipt.body.decisions as Array<Record<string, unknown>>).find((d) => d.requirement === 'stats');
      expect(stats).to.include({ locale: 'de', textHash: texts[0]?.textHash });

      const byHash = await request(app).get(`/consent/texts/${String(stats?.textHash)}`).expect(200);
      expect(byHash.body).to.deep.equal(await t.consent.text(stats?.textHash as string));
      expect(byHash.body).to.include({ requirement: 'stats', version: 1, defaultLocale: 'en', lawfulBasis: 'consent' });
      const { requirement: _r, version: _v, locale: _l, textHash: _h, ...shownGerman } = texts[0] as Record<string, unknown>;
      expect(byHash.body.texts.de).to.deep.equal(shownGerman);
      expect(Object.keys(byHash.body.texts)).to.deep.equal(['en', 'de', 'fr']);
      expect(textHashOf(byHash.body)).to.equal(stats?.textHash);

      expectProblem(await request(app).get(`/consent/texts/${'0'.repeat(64)}`), 404, 'unknown_requirement');
      expectProblem(await request(app).get('/consent/texts/not-a-hash'), 400, 'invalid_body');
      expect(await t.consent.text('0'.repeat(64))).to.equal(null);
    });

    it('the admin export names the locale each decision was shown in, as the history and receipt do', async () => {
      await t.consent.record('ann', { stats: { decision: 'granted', locale: 'de' } });
      const knex = knexFactory(db.config);
      const admin = createConsent({ knex, subject: headerSubject, secret: TEST_SECRET, logger: memoryLogger(), admin: { authorize: headerAdmin } });
      admin.register(TEXTS_REQUIREMENTS);
      try {
        const app = routerApp(admin);
        const csv = (await request(app).get('/consent/admin/export?format=csv').set(ADMIN).expect(200)).text.split('\r\n');
        expect(csv[0]?.split(',').at(-1)).to.equal('locale');
        expect(csv[1]?.split(',').at(-1)).to.equal('de');
        const ndjson = (await request(app).get('/consent/admin/export?format=ndjson').set(ADMIN).buffer(true).parse((r, done) => {
          let text = '';
          r.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
          r.on('end', () => { done(null, text); });
        }).expect(200)).body as string;
        expect(JSON.parse(ndjson.split('\n')[0] as string)).to.include({ requirement: 'stats', version: 1, locale: 'de' });
        expect((await admin.receipt('ann')).decisions[0]).to.include({ locale: 'de' });
      } finally {
        await admin.close();
        await knex.destroy();
      }
    });

    it('a flat English text keeps the hash of the first release', async () => {
      await t.consent.record('ann', { letter: 'granted' });
      const [decision] = (await t.consent.receipt('ann')).decisions;
      const { createHash } = await import('node:crypto');
      const legacy = createHash('sha256').update('{"description":"A monthly e-mail.","lawfulBasis":"consent","title":"Newsletter","url":null}').digest('hex');
      expect(decision).to.include({ requirement: 'letter', textHash: legacy, locale: 'en' });
    });

    it('the confirmation page, its JSON and its answer follow the request\'s language, with the Art. 13 fields', async () => {
      const app = routerApp(t.consent);
      await request(app).put('/consent/me/letter').set(as('ann')).send({ decision: 'granted' }).expect(202);
      const token = links[0]?.token as string;
      const page = await request(app).get(`/consent/confirm/${token}`).set('Accept', 'text/html').set('Accept-Language', 'de').expect(200);
      expect(page.text).to.include('<html lang="de">').and.include('<h1>Bitte bestätigen Sie Ihre Einwilligung</h1>')
        .and.include('Einwilligung bestätigen').and.include('Zurück zur Website');
      // The newsletter has no German text: shown in English, marked as such.
      expect(page.text).to.include('<div lang="en"><h2>Newsletter</h2>');
      const json = await request(app).get(`/consent/confirm/${token}?lang=fr`).set('Accept', 'application/json').expect(200);
      expect(json.body.requirement).to.include({ id: 'letter', locale: 'en' });
      const done = await request(app).post(`/consent/confirm/${token}`).set('Accept', 'text/html').set('Accept-Language', 'fr').type('form').send('').expect(200);
      expect(done.text).to.include('<html lang="fr">').and.include('Merci, votre consentement est confirmé');
    });

    it('a confirmation records the locale its page showed the text in, negotiated as GET /confirm does', async () => {
      const other = await backend.open();
      const own = await testConsent(other, {}, [{
        id: 'mail', doubleOptIn: true,
        texts: { en: { title: 'Mail', description: 'A monthly e-mail.' }, de: { title: 'Post', description: 'Eine monatliche E-Mail.' } },
      }]);
      try {
        const tokens: string[] = [];
        own.consent.on('confirmation', (payload) => void tokens.push(payload.token));
        const app = routerApp(own.consent);
        const confirmed = async (user: string, language: string | null) => {
          await own.consent.record(user, { mail: 'granted' });
          const post = request(app).post(`/consent/confirm/${tokens.at(-1) as string}`);
          await (language === null ? post : post.set('Accept-Language', language)).expect(200);
          return (await own.consent.history(user)).events.filter((e) => e.action === 'confirm').map((e) => e.locale);
        };
        expect(await confirmed('ann', 'de-AT, en;q=0.5')).to.deep.equal(['de']);
        expect(await confirmed('bob', null), 'without a preference: the default locale').to.deep.equal(['en']);
        // A page opened with ?lang= posts its form with it: the answer and the event keep the language shown.
        await own.consent.record('cem', { mail: 'granted' });
        const token = tokens.at(-1) as string;
        const page = await request(app).get(`/consent/confirm/${token}?lang=de`).set('Accept', 'text/html').set('Accept-Language', 'en').expect(200);
        expect(page.text).to.include(`<form method="post" action="/consent/confirm/${token}?lang=de">`);
        const done = await request(app).post(`/consent/confirm/${token}?lang=de`).set('Accept', 'text/html').set('Accept-Language', 'en').type('form').send('').expect(200);
        expect(done.text).to.include('<html lang="de">');
        expect((await own.consent.history('cem')).events.filter((e) => e.action === 'confirm').map((e) => e.locale)).to.deep.equal(['de']);
      } finally {
        await own.close();
        await other.cleanup();
      }
    });

    it('formFields({ locale }) and collect({ locale }) show and record the text in that language', async () => {
      const fields = t.consent.formFields(['stats'], { locale: 'de' });
      expect(fields).to.include('<legend>Ihre Einwilligung</legend>').and.include('Statistik').and.include('(freiwillig)')
        .and.include('<dt>Wer fragt</dt><dd>Example GmbH (privacy@example.com)</dd>').and.include('<dt>Wie lange sie gespeichert werden</dt><dd>13 Monate</dd>');
      expect(t.consent.formFields(['stats'])).to.include('<legend>Your consent</legend>').and.include('<dt>What for</dt><dd>Improve the site</dd>');
      expect(() => t.consent.formFields(['stats'], { locale: 'no good' })).to.throw(/locale/);

      const lib = expressModule();
      const app = lib();
      app.post('/signup', lib.urlencoded({ extended: true }), t.consent.collect(['stats', 'letter'], { locale: (req) => req.get('x-form-locale') }), async (_req, res) => {
        await (res.locals.consent as CollectedConsent).commit('bob');
        res.sendStatus(204);
      });
      await request(app).post('/signup').set('x-form-locale', 'de').type('form').send('consent[stats]=on').expect(204);
      const { events } = await t.consent.history('bob');
      expect(events.map((e) => [e.requirement, e.locale])).to.deep.equal([['letter', 'en'], ['stats', 'de']]);
    });
  });
}
