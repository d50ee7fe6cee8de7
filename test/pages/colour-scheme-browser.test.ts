import { expect } from 'chai';
import type { Express } from 'express';
import type { Browser, Page } from 'playwright-core';
import { createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { launchChromium } from '../examples/browser-helpers';
import { expressModule, memoryLogger, TEST_SECRET } from '../helpers/app';
import { axeViolations, describeAccessible } from '../helpers/axe';
import { listen } from '../helpers/client-pages';
import { contrast } from '../helpers/contrast';

declare const document: { activeElement: unknown; body: unknown; querySelector(selector: string): unknown };
declare function getComputedStyle(element: unknown): { color: string; backgroundColor: string; outlineColor: string; outlineStyle: string };

/** Whether a computed colour is nearer black than white. */
const dark = (colour: string) => contrast(colour, 'rgb(255, 255, 255)') > contrast(colour, 'rgb(0, 0, 0)');

describeAccessible('the colour scheme of the library\'s own pages in Chromium', () => {
  const consents: Consent[] = [];
  let browser: Browser;
  let server: Awaited<ReturnType<typeof listen>>;

  before(async () => {
    const app: Express = expressModule()();
    // The default document, and the same with a stylesheet of the host's.
    for (const [mount, pages] of [['/plain', undefined], ['/styled', { stylesheet: '/host.css' }]] as const) {
      const consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger(), subject: () => undefined, ...(pages ? { pages } : {}) });
      consent.register({ id: 'news', title: 'Newsletter', description: 'Monthly news.', doubleOptIn: true });
      await consent.ready();
      consents.push(consent);
      app.use(mount, consent.router());
    }
    app.get('/host.css', (_req, res) => { res.type('css').send('.ec-header{border-bottom-width:2px}'); });
    server = await listen(app);
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await server.close();
    for (const consent of consents) await consent.close();
  });

  async function open(mount: string, scheme: 'light' | 'dark'): Promise<Page> {
    const page = await browser.newPage({ colorScheme: scheme });
    await page.goto(`http://127.0.0.1:${String(server.port)}${mount}/confirm/not-a-token`);
    return page;
  }
  const colours = (page: Page) => page.evaluate(() => ({
    body: getComputedStyle(document.body).backgroundColor,
    main: getComputedStyle(document.querySelector('main')).backgroundColor,
    text: getComputedStyle(document.querySelector('main')).color,
  }));

  it('is dark for a person who prefers dark, with its text and focus ring still clear', async () => {
    const page = await open('/plain', 'dark');
    const { body, main, text } = await colours(page);
    expect(dark(body), body).to.equal(true);
    expect(dark(main), main).to.equal(true);
    expect(contrast(text, main)).to.be.at.least(4.5);
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement));
    expect(ring.outlineStyle).to.equal('solid');
    expect(contrast(ring.outlineColor, body), 'against the page').to.be.at.least(3);
    expect(contrast(ring.outlineColor, main), 'against the main area').to.be.at.least(3);
    expect(await axeViolations(page)).to.deep.equal([]);
    await page.close();
  });

  it('is light for a person who prefers light', async () => {
    const page = await open('/plain', 'light');
    expect(await colours(page)).to.deep.equal({ body: 'rgb(246, 248, 250)', main: 'rgb(255, 255, 255)', text: 'rgb(31, 35, 40)' });
    await page.close();
  });

  it('stays light with a host stylesheet that declares no colour scheme, even for a person who prefers dark', async () => {
    const page = await open('/styled', 'dark');
    expect(await colours(page)).to.deep.equal({ body: 'rgb(246, 248, 250)', main: 'rgb(255, 255, 255)', text: 'rgb(31, 35, 40)' });
    expect(await axeViolations(page)).to.deep.equal([]);
    await page.close();
  });
});
