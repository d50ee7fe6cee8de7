import { expect } from 'chai';
import type { Express } from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createConsent, MemoryTracker, type Consent } from '../../lib/index';
import { expressModule, memoryLogger, TEST_SECRET } from '../helpers/app';
import { listen } from '../helpers/client-pages';
import { chromiumPath, describeBrowser } from '../helpers/databases';

// The page's globals, as the callbacks given to page.evaluate() use them (no DOM types here).
declare const window: { violations: string[] };
declare const document: {
  documentElement: { getAttribute(name: string): string | null };
  activeElement: { tagName: string; textContent: string | null } | null;
  addEventListener(type: string, fn: (e: { violatedDirective: string; blockedURI: string }) => void): void;
};

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const NONCE = 'cGFnZS1ub25jZQ';

/** A host page: the client (at `client`), a gated script file, a gated inline script and a gated frame. */
function hostPage(client: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host</title><script nonce="${NONCE}" src="${client}" defer></script></head>
<body><main><h1>Host</h1><p>Some text.</p>
<script nonce="${NONCE}" type="text/plain" data-consent="stats" src="/gated.js"></script>
<script nonce="${NONCE}" type="text/plain" data-consent="stats">document.documentElement.setAttribute('data-inline', 'ran');</script>
<iframe data-consent="video" data-src="/frame" title="A video" width="300" height="150"></iframe>
<p><button type="button" data-consent-open>Privacy choices</button></p></main></body></html>`;
}

describeBrowser('the browser client in Chromium under real conditions: strict hosts, failing saves, other tabs', function (this: Mocha.Suite) {
  this.timeout(60_000);
  let consent: Consent;
  let browser: Browser;
  let server: Awaited<ReturnType<typeof listen>>;
  const contexts: BrowserContext[] = [];

  before(async () => {
    consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger(), visitors: {}, subject: () => undefined });
    consent.register([
      { id: 'stats', title: 'Statistics', description: 'We count page views.' },
      { id: 'video', title: 'Embedded videos', description: 'Videos from a video site.' },
    ]);
    await consent.ready();
    const app: Express = expressModule()();
    app.use('/consent', consent.router());
    app.get('/gated.js', (_req, res) => { res.type('text/javascript').send("document.documentElement.setAttribute('data-gated', 'ran');"); });
    app.get('/frame', (_req, res) => { res.type('html').send('<!doctype html><title>Video</title><p>A video</p>'); });
    // Trusted Types enforced for scripts, scripts only by nonce, no inline style.
    app.get('/trusted-types', (_req, res) => {
      res.set('Content-Security-Policy', `default-src 'self'; script-src 'nonce-${NONCE}'; style-src 'self'; frame-src 'self'; require-trusted-types-for 'script'`);
      res.type('html').send(hostPage('/consent/client.js'));
    });
    app.get('/', (_req, res) => { res.type('html').send(hostPage('/consent/client.js')); });
    server = await listen(app);
    browser = await chromium.launch({ executablePath: chromiumPath() as string, headless: true, args: ARGS });
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser.close();
    await server.close();
    await consent.close();
  });

  /** A fresh profile; its pages collect CSP violations, page errors and console errors in `errors`. */
  async function profile(): Promise<BrowserContext> {
    const context = await browser.newContext({ baseURL: `http://127.0.0.1:${String(server.port)}` });
    contexts.push(context);
    await context.addInitScript(() => {
      window.violations = [];
      document.addEventListener('securitypolicyviolation', (e) => { window.violations.push(`${e.violatedDirective} ${e.blockedURI}`); });
    });
    return context;
  }
  async function visit(context: BrowserContext, path: string): Promise<Page & { errors: string[] }> {
    const page = Object.assign(await context.newPage(), { errors: [] as string[] });
    page.on('pageerror', (error) => { page.errors.push(error.message); });
    page.on('console', (message) => { if (message.type() === 'error' && !message.text().includes('404')) page.errors.push(message.text()); });
    await page.goto(path);
    return page;
  }
  const banner = (page: Page) => page.getByRole('region', { name: 'Your privacy choices' });
  const mark = (page: Page, name: string) => page.evaluate((n) => document.documentElement.getAttribute(n), name);

  it('runs the gated scripts and frame on a page enforcing Trusted Types and a nonce, with no violation', async () => {
    const page = await visit(await profile(), '/trusted-types');
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await page.getByRole('status').filter({ hasText: 'Your choices are saved.' }).waitFor({ state: 'attached' });
    await page.locator('iframe[title="A video"][src="/frame"]').waitFor({ state: 'attached' });
    await page.waitForFunction(() => document.documentElement.getAttribute('data-inline') === 'ran');
    expect(await mark(page, 'data-gated')).to.equal('ran');
    expect(await page.evaluate(() => window.violations)).to.deep.equal([]);
    expect(page.errors).to.deep.equal([]);
  });
});
