import { expect } from 'chai';
import type { Express } from 'express';
import { chromium, type Browser } from 'playwright-core';
import { createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { expressModule, memoryLogger, TEST_SECRET } from '../helpers/app';
import { listen } from '../helpers/client-pages';
import { contrast } from '../helpers/contrast';
import { chromiumPath, describeBrowser } from '../helpers/databases';

declare const document: { activeElement: unknown; body: unknown };
declare function getComputedStyle(element: unknown): { outlineColor: string; outlineStyle: string; backgroundColor: string };

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describeBrowser('the focus ring of the library\'s own pages in Chromium', () => {
  let consent: Consent;
  let browser: Browser;
  let server: Awaited<ReturnType<typeof listen>>;

  before(async () => {
    consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger(), subject: () => undefined });
    consent.register({ id: 'news', title: 'Newsletter', description: 'Monthly news.', doubleOptIn: true });
    await consent.ready();
    const app: Express = expressModule()();
    app.use('/consent', consent.router());
    server = await listen(app);
    browser = await chromium.launch({ executablePath: chromiumPath() as string, headless: true, args: ARGS });
  });
  after(async () => {
    await browser.close();
    await server.close();
    await consent.close();
  });

  it('stands out at 3:1 or more from the white of the page and the grey around it (WCAG 1.4.11)', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${String(server.port)}/consent/confirm/not-a-token`);
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => ({ ...getComputedStyle(document.activeElement), body: getComputedStyle(document.body).backgroundColor }));
    expect(ring.outlineStyle).to.equal('solid');
    expect(contrast(ring.outlineColor, 'rgb(255, 255, 255)'), 'against white').to.be.at.least(3);
    expect(contrast(ring.outlineColor, ring.body), 'against the page\'s background').to.be.at.least(3);
    await page.close();
  });
});
