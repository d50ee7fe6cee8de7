import { expect } from 'chai';
import express from 'express';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { createConsent, type Consent } from '../../lib/index';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const SECRET = 'console-language-secret-0123456789';
const quiet = { warn() {}, error() {} };

describe('the admin console in the reader\'s language', function () {
  this.timeout(30_000);
  const file = tempSqliteFile();
  let knex: Knex;
  let consent: Consent;
  let app: express.Express;

  before(async () => {
    knex = knexFactory(sqliteKnexConfig(file.filename));
    consent = createConsent({ knex, secret: SECRET, logger: quiet, admin: { authorize: () => true } });
    consent.register([
      { id: 'terms', title: 'Terms of service', description: 'The rules.', lawfulBasis: 'contract' },
      { id: 'news', title: 'Newsletter', description: 'A monthly e-mail.' },
      { id: 'stats', texts: { en: { title: 'Statistics', description: 'We count page views.' }, de: { title: 'Statistik', description: 'Wir zählen Seitenaufrufe.' } } },
    ]);
    await consent.ready();
    await consent.record('ann', { terms: 'granted', news: 'granted' }, { context: 'signup' });
    app = express();
    app.use('/consent', consent.router());
  });
  after(async () => {
    await consent.close();
    await knex.destroy();
    file.cleanup();
  });

  it('speaks English by default, German and French when the browser asks, and follows ?lang=', async () => {
    const en = await request(app).get('/consent/admin/console/').expect(200);
    expect(en.text).to.match(/<html lang="en"/).and.include('Consent overview').and.include('Versions, newest first').and.include('Subjects by state');
    const de = await request(app).get('/consent/admin/console/').set('Accept-Language', 'de-AT, en;q=0.5').expect(200);
    expect(de.text).to.match(/<html lang="de"/).and.include('Einwilligungen: Übersicht').and.include('Versionen, neueste zuerst')
      .and.include('Personen nach Status').and.include('Rechtsgrundlage').and.include('Alle Ereignisse exportieren');
    expect(de.text).not.to.include('Subjects by state');
    expect(de.text).to.include('<th scope="col" class="ec-n">erteilt</th>').and.include('data-label="verweigert" data-state="denied"');
    const fr = await request(app).get('/consent/admin/console/?lang=fr').set('Accept-Language', 'de').expect(200);
    expect(fr.text).to.match(/<html lang="fr"/).and.include('Consentements\u00a0: vue d’ensemble').and.include('Base légale');
    // Without the slash: sent to the overview with the language asked for.
    const moved = await request(app).get('/consent/admin/console?lang=fr').expect(301);
    expect(moved.headers.location).to.equal('/consent/admin/console/?lang=fr');
    expect((await request(app).get('/consent/admin/console').expect(301)).headers.location).to.equal('/consent/admin/console/');
    // The lookup's relative links are written for its address without the slash.
    const lookup = await request(app).get('/consent/admin/console/subject/?id=ann&lang=de').expect(301);
    expect(lookup.headers.location).to.equal('/consent/admin/console/subject?id=ann&lang=de');
  });

  it('shows each requirement\'s text in the console\'s language where it has one, and marks the language of one it has not', async () => {
    const de = await request(app).get('/consent/admin/console/').set('Accept-Language', 'de').expect(200);
    expect(de.text).to.include('<h2 id="req-title-stats">Statistik <small>').and.include('<summary>Statistik</summary><p>Wir zählen Seitenaufrufe.</p>');
    expect(de.text).to.include('<h2 id="req-title-terms"><span lang="en">Terms of service</span> <small>')
      .and.include('<div lang="en"><details><summary>Terms of service</summary>');
    const en = await request(app).get('/consent/admin/console/').expect(200);
    expect(en.text).to.include('<h2 id="req-title-stats">Statistics <small>').and.not.match(/<(span|div) lang=/);
  });

  it('shows a subject\'s states, verification and history in German', async () => {
    const de = await request(app).get('/consent/admin/console/subject?id=ann').set('Accept-Language', 'de').expect(200);
    expect(de.text).to.include('Person suchen').and.include('Kette geprüft, keine Probleme. Geprüfte Ereignisse: 2.')
      .and.include('data-label="Zweck"').and.include('data-label="Kontext"').and.include('>Verlauf <small>(neueste zuerst)</small>');
    // The codes in German words, each marked with its code.
    expect(de.text).to.include('<span data-code="granted">erteilt</span>').and.include('<span data-code="grant">Erteilung</span>').and.include('<span data-code="app">Anwendung</span>');
    // Dates in German too (`4. Dez. 2026`, not `4 Dec 2026`), on the lookup and the overview.
    const dates = (text: string) => [...text.matchAll(/<time datetime="[^"]+">([^<]+)<\/time>/g)].map((m) => m[1] as string);
    expect(dates(de.text)).to.have.length.greaterThan(0);
    for (const shown of dates(de.text)) expect(shown).to.match(/^\d{1,2}\. [A-ZÄÖÜ][a-zäöü]+\.? \d{4}/);
    const overview = await request(app).get('/consent/admin/console/').set('Accept-Language', 'de').expect(200);
    expect(dates(overview.text)).to.have.length.greaterThan(0);
    for (const shown of dates(overview.text)) expect(shown).to.match(/^\d{1,2}\. [A-ZÄÖÜ][a-zäöü]+\.? \d{4}/);
    const none = await request(app).get('/consent/admin/console/subject?id=nobody').set('Accept-Language', 'de').expect(200);
    expect(none.text).to.include('Keine Einträge zu dieser Person');
  });
});
