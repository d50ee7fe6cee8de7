import { expect } from 'chai';
import type { Express, RequestHandler } from 'express';
import knexFactory, { type Knex } from 'knex';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createConsent, type ConfirmationPayload, type Consent, type RequirementDefinition } from '../../lib/index';
import { expressModule, memoryLogger, TEST_SECRET } from '../helpers/app';
import { axeViolations, describeAccessible } from '../helpers/axe';
import { listen } from '../helpers/client-pages';
import { chromiumPath, sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const INFO = { controller: { name: 'Beispiel GmbH', contact: 'datenschutz@example.com' }, retention: '13 Monate' };

const REQUIREMENTS: RequirementDefinition[] = [
  {
    id: 'stats',
    texts: {
      en: { title: 'Statistics', description: 'We count page views.', url: '/privacy' },
      de: { title: 'Statistik', description: 'Wir zählen Seitenaufrufe.', url: '/datenschutz', purposes: ['Die Website verbessern'], recipients: ['Hosting-Dienstleister'] },
    },
    ...INFO,
  },
  {
    id: 'letter',
    doubleOptIn: true,
    texts: {
      en: { title: 'Newsletter', description: 'A monthly e-mail.' },
      de: { title: 'Newsletter', description: 'Eine monatliche E-Mail.', purposes: ['Neuigkeiten senden'] },
    },
    ...INFO,
  },
  { id: 'terms', title: 'Terms of service', description: 'The contract.', lawfulBasis: 'contract' },
];

/** A German page of the host: the browser client on it, and a preference form from `formFields`. */
function hostPages(consent: () => Consent): RequestHandler {
  const shell = (title: string, body: string) => `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><script src="/consent/client.js" defer></script></head>
<body><main><h1>${title}</h1>${body}
<p><button type="button" data-consent-open>Datenschutzeinstellungen</button></p></main></body></html>`;
  return (req, res, next) => {
    res.set('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'");
    if (req.path === '/') { res.type('html').send(shell('Buchladen', '<p>Willkommen.</p>')); return; }
    if (req.path === '/einstellungen') {
      const form = consent().formFields(['stats', 'letter'], { locale: 'de' });
      res.type('html').send(shell('Ihre Einstellungen', `<form method="post" action="/einstellungen">${form}<p><button type="submit">Speichern</button></p></form>`));
      return;
    }
    next();
  };
}

describeAccessible('texts in German in Chromium: the client, a preference form and the confirmation pages', function (this: Mocha.Suite) {
  this.timeout(120_000);
  const db = tempSqliteFile();
  let knex: Knex;
  let consent: Consent;
  let browser: Browser;
  let server: Awaited<ReturnType<typeof listen>>;
  let context: BrowserContext;
  const links: ConfirmationPayload[] = [];
  const origin = () => `http://127.0.0.1:${String(server.port)}`;

  before(async () => {
    knex = knexFactory(sqliteKnexConfig(db.filename));
    consent = createConsent({ knex, secret: TEST_SECRET, logger: memoryLogger(), visitors: {}, subject: () => undefined });
    consent.register(REQUIREMENTS);
    await consent.ready();
    consent.on('confirmation', (payload) => void links.push(payload));
    const lib = expressModule();
    const app: Express = lib();
    app.use('/consent', consent.router());
    app.use(hostPages(() => consent));
    server = await listen(app);
    browser = await chromium.launch({ executablePath: chromiumPath() as string, headless: true, args: ARGS });
    context = await browser.newContext({ locale: 'de-DE', extraHTTPHeaders: { 'Accept-Language': 'de' } });
  });
  after(async () => {
    await context.close();
    await browser.close();
    await server.close();
    await consent.close();
    await knex.destroy();
    db.cleanup();
  });

  async function open(path: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${origin()}${path}`);
    return page;
  }

  it('the browser client speaks German, shows what Art. 13 asks, records the locale and passes axe-core', async () => {
    const page = await open('/');
    const banner = page.locator('.ec-banner');
    await banner.waitFor();
    expect(await banner.locator('h2').textContent()).to.equal('Ihre Datenschutz\u00ADeinstel\u00ADlungen');
    expect(await page.getByRole('region', { name: 'Ihre Datenschutzeinstellungen' }).count()).to.equal(1);
    expect(await banner.textContent()).to.include('Wir bitten um Ihre Einwilligung für: Statistik, Newsletter.');
    expect(await axeViolations(page)).to.deep.equal([]);

    await page.locator('.ec-banner [data-ec="choose"]').click();
    const dialog = page.locator('dialog.ec-dialog');
    await dialog.waitFor();
    // A soft hyphen marks where the long word may break on a narrow screen.
    expect(await dialog.locator('h2').textContent()).to.equal('Datenschutz\u00ADeinstel\u00ADlungen');
    expect(await page.getByRole('dialog', { name: 'Datenschutzeinstellungen' }).count()).to.equal(1);
    const text = await dialog.textContent();
    expect(text).to.include('Wer fragt').and.include('Beispiel GmbH (datenschutz@example.com)').and.include('Wofür').and.include('Die Website verbessern')
      .and.include('Wer sie erhält').and.include('Hosting-Dienstleister').and.include('Mehr über „Statistik“').and.include('Immer aktiv (Rechtsgrundlage: Vertrag).');
    // The contract has only an English text: marked as English inside the German dialog.
    expect(await dialog.locator('li[lang="en"]').count()).to.equal(1);
    expect(await axeViolations(page)).to.deep.equal([]);

    await dialog.locator('[data-ec="accept"]').click();
    await dialog.waitFor({ state: 'detached' });
    await page.close();
    expect(links).to.have.length(1);
  });

  it('the confirmation page and its answer are in German and pass axe-core', async () => {
    const token = links[0]?.token as string;
    const page = await open(`/consent/confirm/${token}`);
    expect(await page.locator('html').getAttribute('lang')).to.equal('de');
    expect(await page.locator('h1').textContent()).to.equal('Bitte bestätigen Sie Ihre Einwilligung');
    expect(await page.locator('main').textContent()).to.include('Eine monatliche E-Mail.').and.include('Neuigkeiten senden').and.include('Dieser Link gilt bis');
    expect(await axeViolations(page)).to.deep.equal([]);
    await page.locator('button[type="submit"]').click();
    await page.locator('.ec-status').waitFor();
    expect(await page.locator('h1').textContent()).to.equal('Danke, Ihre Einwilligung ist bestätigt');
    expect(await axeViolations(page)).to.deep.equal([]);
    await page.close();
  });

  it('a preference form from formFields({ locale: "de" }) is German and passes axe-core', async () => {
    const page = await open('/einstellungen');
    expect(await page.locator('legend').textContent()).to.equal('Ihre Einwilligung');
    expect(await page.locator('label[for="consent-stats"]').textContent()).to.equal('Statistik (freiwillig)');
    expect(await page.locator('.consent-field').first().textContent()).to.include('Wie lange sie gespeichert werden').and.include('13 Monate');
    expect(await axeViolations(page)).to.deep.equal([]);
    await page.close();
  });

  it('the decisions made in the German client record the locale "de"', async () => {
    const cookies = await context.cookies(origin());
    const visitor = cookies.find((c) => c.name === 'consent_visitor');
    expect(visitor, 'the client made a visitor').to.not.equal(undefined);
    const rows = await knex('consent_events').select('requirement', 'action', 'locale').orderBy('id');
    expect(rows).to.deep.include.members([
      { requirement: 'stats', action: 'grant', locale: 'de' },
      { requirement: 'letter', action: 'request', locale: 'de' },
    ]);
  });
});
