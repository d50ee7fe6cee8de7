import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { axeViolations, describeAccessible } from '../helpers/axe';
import { clientBed, type ClientBed } from '../helpers/client-bed';

// The page's globals, as the callbacks given to page.evaluate() use them (no DOM types here).
declare const window: { violations: string[] };
declare const document: {
  documentElement: { getAttribute(name: string): string | null };
  activeElement: { tagName: string; textContent: string | null } | null;
  addEventListener(type: string, fn: (e: { violatedDirective: string; blockedURI: string }) => void): void;
};

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

describeAccessible('the browser client in Chromium under real conditions: strict hosts, failing saves, other tabs', function (this: Mocha.Suite) {
  this.timeout(60_000);
  let bed: ClientBed;

  before(async () => {
    bed = await clientBed([
      { id: 'stats', title: 'Statistics', description: 'We count page views.' },
      { id: 'video', title: 'Embedded videos', description: 'Videos from a video site.' },
    ], (app) => {
      app.get('/gated.js', (_req, res) => { res.type('text/javascript').send("document.documentElement.setAttribute('data-gated', 'ran');"); });
      app.get('/frame', (_req, res) => { res.type('html').send('<!doctype html><title>Video</title><p>A video</p>'); });
      // Trusted Types enforced for scripts, scripts only by nonce, no inline style.
      app.get('/trusted-types', (_req, res) => {
        res.set('Content-Security-Policy', `default-src 'self'; script-src 'nonce-${NONCE}'; style-src 'self'; frame-src 'self'; require-trusted-types-for 'script'`);
        res.type('html').send(hostPage('/consent/client.js'));
      });
      // The client's address with a fragment and no query.
      app.get('/versioned', (_req, res) => { res.type('html').send(hostPage('/consent/client.js#release-2')); });
      // The router matches its paths in any case: the client's address too.
      app.get('/shouting', (_req, res) => { res.type('html').send(hostPage('/consent/CLIENT.JS')); });
      app.get('/', (_req, res) => { res.type('html').send(hostPage('/consent/client.js')); });
    });
  });
  after(async () => {
    await bed.close();
  });

  /** A fresh profile; its pages collect CSP violations, page errors and console errors in `errors`. */
  async function profile(): Promise<BrowserContext> {
    const context = await bed.context();
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
    // The gated script is a file of its own: it runs once it has loaded, after the status says saved.
    await page.waitForFunction(() => document.documentElement.getAttribute('data-gated') === 'ran');
    expect(await page.evaluate(() => window.violations)).to.deep.equal([]);
    expect(page.errors).to.deep.equal([]);
  });

  const FAILED = 'Your choices could not be saved, so nothing has changed. Check your connection and try again in a moment.';
  const focused = (page: Page) => page.evaluate(() => {
    const e = document.activeElement;
    return e ? `${e.tagName.toLowerCase()} ${(e.textContent ?? '').trim()}` : '';
  });
  /** Fails every `POST /consent/me` of the page in the way given, until unrouted. */
  const failSaves = (page: Page, answer: { status: number; contentType: string; body: string }) =>
    page.route('**/consent/me', (route) => (route.request().method() === 'POST' ? route.fulfill(answer) : route.fallback()));
  for (const [what, answer] of [
    ['503 problem', { status: 503, contentType: 'application/problem+json', body: '{"status":503}' }],
    ['403 from the cross-site check', { status: 403, contentType: 'application/problem+json', body: '{"status":403}' }],
    ['502 page that is not JSON', { status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' }],
  ] as const) {
    it(`says in the banner that a save answered by a ${what} failed, keeps focus and runs nothing`, async () => {
      const page = await visit(await profile(), '/');
      await failSaves(page, answer);
      await banner(page).getByRole('button', { name: 'Accept all' }).focus();
      await page.keyboard.press('Enter');
      await banner(page).getByRole('alert').filter({ hasText: FAILED }).waitFor();
      expect(await focused(page)).to.equal('button Accept all');
      // The status region is there from the start (announced when it changes), and says nothing.
      expect(await page.getByRole('status').count()).to.equal(1);
      expect(await page.getByRole('status').textContent()).to.equal('');
      expect(await mark(page, 'data-gated')).to.equal(null);
      expect(await page.locator('iframe[title="A video"]').getAttribute('src')).to.equal(null);
      expect(await axeViolations(page)).to.deep.equal([]);
      // Once the server answers again, the same button saves, and the failure is no longer shown.
      await page.unroute('**/consent/me');
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'Your choices are saved.' }).waitFor({ state: 'attached' });
      expect(await page.getByRole('alert').count()).to.equal(0);
      await page.waitForFunction(() => document.documentElement.getAttribute('data-gated') === 'ran');
    });
  }

  it('says in the dialog that a save made offline failed, with focus kept in the dialog and nothing run', async () => {
    const context = await profile();
    const page = await visit(context, '/');
    await banner(page).getByRole('button', { name: 'Choose' }).click();
    const dialog = page.getByRole('dialog', { name: 'Privacy choices' });
    await dialog.getByRole('switch', { name: 'Statistics' }).check();
    await context.setOffline(true);
    await dialog.getByRole('button', { name: 'Save choices' }).click();
    await dialog.getByRole('alert').filter({ hasText: FAILED }).waitFor();
    expect(await focused(page)).to.equal('button Save choices');
    expect(await dialog.getByRole('switch', { name: 'Statistics' }).isChecked()).to.equal(true);
    expect(await axeViolations(page)).to.deep.equal([]);
    await context.setOffline(false);
    expect(await mark(page, 'data-gated')).to.equal(null);
  });

  it('reads the texts again when a save finds them changed (409), and asks again in the banner', async () => {
    const page = await visit(await profile(), '/');
    await failSaves(page, { status: 409, contentType: 'application/problem+json', body: '{"status":409,"code":"version_mismatch"}' });
    await banner(page).getByRole('button', { name: 'Choose' }).click();
    await page.getByRole('dialog', { name: 'Privacy choices' }).getByRole('button', { name: 'Accept all' }).click();
    await banner(page).getByRole('alert').filter({ hasText: 'These texts have just changed, so your choices were not saved.' }).waitFor();
    expect(await page.getByRole('dialog').count()).to.equal(0);
    expect(await focused(page)).to.equal('button Accept all');
    expect(await mark(page, 'data-gated')).to.equal(null);
  });

  it('sends one save for two quick clicks, so what runs is what was stored', async () => {
    const page = await visit(await profile(), '/');
    const posts: string[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => { release = resolve; });
    // The first save is held on its way until the second click has been made.
    await page.route('**/consent/me', async (route) => {
      if (route.request().method() !== 'POST') { await route.fallback(); return; }
      posts.push(route.request().postData() ?? '');
      await held;
      await route.fallback();
    });
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    while (posts.length === 0) await page.waitForTimeout(20);
    expect(await banner(page).getByRole('button', { name: 'Reject all' }).getAttribute('aria-disabled')).to.equal('true');
    // A real click on it all the same (Playwright itself waits for an aria-disabled button).
    await banner(page).getByRole('button', { name: 'Reject all' }).click({ force: true });
    release();
    await page.getByRole('status').filter({ hasText: 'Your choices are saved.' }).waitFor({ state: 'attached' });
    expect(posts).to.have.length(1);
    // The gated script is a file of its own: it runs once it has loaded, after the status says saved.
    await page.waitForFunction(() => document.documentElement.getAttribute('data-gated') === 'ran');
    const stored = await page.evaluate(() => fetch('/consent/me').then((r) => r.json()) as Promise<{ states: Record<string, { state: string }> }>);
    expect([stored.states.stats?.state, stored.states.video?.state]).to.deep.equal(['granted', 'granted']);
  });

  it('tells the site\'s other tabs of a save: they run what it allowed and drop their banner', async () => {
    const context = await profile();
    const first = await visit(context, '/');
    const second = await visit(context, '/');
    await banner(second).waitFor();
    await banner(first).getByRole('button', { name: 'Accept all' }).click();
    await second.waitForFunction(() => document.documentElement.getAttribute('data-gated') === 'ran');
    await banner(second).waitFor({ state: 'detached' });
    expect(await second.locator('iframe[title="A video"]').getAttribute('src')).to.equal('/frame');
    // A choice made there later starts from what was stored: its dialog shows the grants.
    await second.getByRole('button', { name: 'Privacy choices' }).click();
    expect(await second.getByRole('dialog', { name: 'Privacy choices' }).getByRole('switch', { name: 'Statistics' }).isChecked()).to.equal(true);
    expect([...first.errors, ...second.errors]).to.deep.equal([]);
  });

  it('reads the state again when the page comes back from the back/forward cache', async () => {
    const page = await visit(await profile(), '/');
    await banner(page).waitFor();
    // Chosen elsewhere meanwhile (another page of the site), then the page is shown again as it was.
    await page.evaluate(() => fetch('/consent/me', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ decisions: { stats: 'granted', video: 'denied' } }) }));
    expect(await mark(page, 'data-gated')).to.equal(null);
    await page.evaluate(() => {
      const g = globalThis as unknown as { dispatchEvent(e: unknown): void; PageTransitionEvent: new (type: string, init: { persisted: boolean }) => unknown };
      g.dispatchEvent(new g.PageTransitionEvent('pageshow', { persisted: true }));
    });
    await page.waitForFunction(() => document.documentElement.getAttribute('data-gated') === 'ran');
    await banner(page).waitFor({ state: 'detached' });
  });

  for (const [what, path] of [['with a fragment', '/versioned'], ['in capitals', '/shouting']] as const) {
    it(`finds its routes from a script address ${what}`, async () => {
      const page = await visit(await profile(), path);
      await banner(page).getByRole('button', { name: 'Accept all' }).click();
      await page.waitForFunction(() => document.documentElement.getAttribute('data-gated') === 'ran');
    });
  }
});
