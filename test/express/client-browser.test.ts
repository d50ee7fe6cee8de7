import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type { Express } from 'express';
import knexFactory, { type Knex } from 'knex';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createConsent, type Consent, type RequirementDefinition } from '../../lib/index';
import { expressModule, memoryLogger, TEST_SECRET } from '../helpers/app';
import { firstPartyPages, listen, THIRD_PARTY_HOST, thirdPartyApp } from '../helpers/client-pages';
import { chromiumPath, describeBrowser, sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

// The page's globals, as the callbacks given to page.evaluate() use them (this project compiles
// without the DOM library).
interface PageElement {
  getAttribute(name: string): string | null;
  textContent: string | null;
  id: string;
  tagName: string;
}
declare const window: unknown;
declare const document: { documentElement: PageElement; activeElement: PageElement | null; addEventListener(type: string, fn: (e: never) => void): void };
declare function getComputedStyle(element: unknown): { fontSize: string; fontWeight: string; color: string; backgroundColor: string; borderColor: string };

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', `--host-resolver-rules=MAP ${THIRD_PARTY_HOST} 127.0.0.1`];

const requirements = (analyticsVersion: number): RequirementDefinition[] => [
  { id: 'analytics', version: analyticsVersion, title: 'Usage analytics', description: 'We record which pages you open.', url: '/privacy#analytics' },
  { id: 'ads', title: 'Personalised ads', description: 'Ads based on what you read.', gpc: true },
  { id: 'fraud', title: 'Fraud checks', description: 'We check payments.', lawfulBasis: 'legitimate_interests' },
  { id: 'terms', title: 'Terms of service', description: 'The contract.', lawfulBasis: 'contract' },
];

/** axe-core: a dev dependency when installed, else `AXE_CORE_PATH` (its axe.min.js). */
function axeSource(): string | null {
  try {
    return readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  } catch {
    const path = process.env.AXE_CORE_PATH;
    return path ? readFileSync(path, 'utf8') : null;
  }
}

describeBrowser('the browser client in Chromium', function (this: Mocha.Suite) {
  this.timeout(120_000);
  const db = tempSqliteFile();
  let knex: Knex;
  let consent: Consent;
  let browser: Browser;
  let first: Awaited<ReturnType<typeof listen>>;
  let third: Awaited<ReturnType<typeof listen>>;
  let seen: string[];
  const contexts: BrowserContext[] = [];
  const origin = () => `http://127.0.0.1:${String(first.port)}`;
  const thirdOrigin = () => `http://${THIRD_PARTY_HOST}:${String(third.port)}`;

  async function start(analyticsVersion: number): Promise<void> {
    const next = createConsent({ knex, secret: TEST_SECRET, logger: memoryLogger(), visitors: {}, subject: () => undefined });
    next.register(requirements(analyticsVersion));
    await next.ready();
    const previous = consent as Consent | undefined;
    consent = next;
    await previous?.close();
  }

  before(async () => {
    knex = knexFactory(sqliteKnexConfig(db.filename));
    await start(1);
    const lib = expressModule();
    const app: Express = lib();
    // The router of the current instance (a test restarts it with a new version).
    app.use('/consent', (req, res, next) => { consent.router()(req, res, next); });
    app.use(firstPartyPages(thirdOrigin));
    first = await listen(app);
    const party = thirdPartyApp(origin);
    seen = party.seen;
    third = await listen(party.app);
    browser = await chromium.launch({ executablePath: chromiumPath() as string, headless: true, args: ARGS });
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser.close();
    await third.close();
    await first.close();
    await consent.close();
    await knex.destroy();
    db.cleanup();
  });

  /** A fresh profile (own cookies) and a page collecting CSP violations and consent:change events. */
  async function visitor(options: { gpc?: boolean; width?: number } = {}): Promise<Page> {
    const context = await browser.newContext({
      baseURL: origin(),
      viewport: { width: options.width ?? 1280, height: 800 },
      extraHTTPHeaders: options.gpc ? { 'Sec-GPC': '1' } : {},
    });
    contexts.push(context);
    await context.addInitScript(() => {
      const w = window as { violations: string[]; changes: unknown[] };
      w.violations = [];
      w.changes = [];
      document.addEventListener('securitypolicyviolation', (e: { violatedDirective: string; blockedURI: string }) => { w.violations.push(`${e.violatedDirective} ${e.blockedURI}`); });
      document.addEventListener('consent:change', (e: { detail: unknown }) => { w.changes.push(e.detail); });
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => { errors.push(error.message); });
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    (page as Page & { errors: string[] }).errors = errors;
    return page;
  }
  const banner = (page: Page) => page.getByRole('region', { name: 'Your privacy choices' });
  const dialog = (page: Page) => page.getByRole('dialog', { name: 'Privacy choices' });
  const trackerLoaded = (page: Page) => page.evaluate(() => document.documentElement.getAttribute('data-tracker'));
  const frameSrc = (page: Page) => page.locator('iframe[title="A third-party video"]').getAttribute('src');
  async function open(page: Page, path = '/'): Promise<void> {
    await page.goto(path);
    await page.waitForFunction(() => (window as { changes: unknown[] }).changes.length > 0);
  }
  const violations = (page: Page) => page.evaluate(() => (window as { violations: string[] }).violations);

  it('sends nothing to the third party before consent; shows three equal choices and no ticked box', async () => {
    seen.length = 0;
    const page = await visitor();
    await open(page);
    await banner(page).waitFor();
    const buttons = banner(page).getByRole('button');
    expect(await buttons.allTextContents()).to.deep.equal(['Accept all', 'Reject all', 'Choose']);
    const looks = await buttons.evaluateAll((list) => list.map((b) => {
      const s = getComputedStyle(b);
      const r = b.getBoundingClientRect();
      return [Math.round(r.height), s.fontSize, s.fontWeight, s.color, s.backgroundColor, s.borderColor].join(' ');
    }));
    expect(new Set(looks).size, looks.join(' | ')).to.equal(1);
    await banner(page).getByRole('button', { name: 'Choose' }).click();
    await dialog(page).waitFor();
    expect(await dialog(page).getByRole('switch').evaluateAll((list) => list.map((s) => (s as unknown as { checked: boolean }).checked))).to.deep.equal([false, false, true]);
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    expect(seen, 'no request reached the third party').to.deep.equal([]);
    expect(await trackerLoaded(page)).to.equal(null);
    expect(await frameSrc(page)).to.equal(null);
    // The gated frame is out of sight and of the Tab order; a note in its place says what it needs.
    const frame = page.locator('iframe[title="A third-party video"]');
    expect(await frame.isVisible()).to.equal(false);
    expect([await frame.getAttribute('tabindex'), await frame.getAttribute('aria-hidden')]).to.deep.equal(['-1', 'true']);
    const note = page.locator('.ec-placeholder');
    expect(await note.textContent()).to.equal('This content needs your consent to: Usage analytics.Choose');
    await note.getByRole('button', { name: 'Choose' }).click();
    await dialog(page).waitFor();
    await page.keyboard.press('Escape');
    expect(await violations(page)).to.deep.equal([]);
    expect(await page.context().cookies(), 'reads set no cookie').to.deep.equal([]);
  });

  it('loads the gated script and iframe after "Accept all", and on every later load', async () => {
    seen.length = 0;
    const page = await visitor();
    await open(page);
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-tracker') === 'loaded');
    expect(await frameSrc(page)).to.equal(`${thirdOrigin()}/frame`);
    expect(await banner(page).count()).to.equal(0);
    // Loaded: the frame is shown as the page wrote it, and its note is gone.
    const frame = page.locator('iframe[title="A third-party video"]');
    expect(await frame.isVisible()).to.equal(true);
    expect([await frame.getAttribute('tabindex'), await frame.getAttribute('aria-hidden'), await frame.getAttribute('class')]).to.deep.equal([null, null, null]);
    expect(await page.locator('.ec-placeholder').count()).to.equal(0);
    const changes = await page.evaluate(() => (window as { changes: Array<{ reason: string; states: Record<string, { allowed: boolean }> }> }).changes);
    expect(changes.map((c) => c.reason)).to.deep.equal(['load', 'save']);
    expect(changes[1]?.states.analytics?.allowed).to.equal(true);
    const [cookie] = await page.context().cookies();
    expect(cookie).to.include({ name: 'consent_visitor', httpOnly: true, sameSite: 'Lax', path: '/' });
    await page.reload();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-tracker') === 'loaded');
    expect(await banner(page).count()).to.equal(0);
    expect(seen.filter((p) => p === '/tracker.js')).to.have.length(2);
    expect(await violations(page)).to.deep.equal([]);
  });

  it('never loads them after "Reject all", across reloads', async () => {
    seen.length = 0;
    const page = await visitor();
    await open(page);
    await banner(page).getByRole('button', { name: 'Reject all' }).click();
    await banner(page).waitFor({ state: 'detached' });
    await page.reload();
    await page.waitForFunction(() => (window as { changes: unknown[] }).changes.length > 0);
    await page.waitForTimeout(300);
    expect(await banner(page).count()).to.equal(0);
    expect(await trackerLoaded(page)).to.equal(null);
    expect(seen).to.deep.equal([]);
  });

  it('acts from the banner only on what it names: answers and objections it does not mention stay as they were', async () => {
    const page = await visitor();
    const me = () => page.evaluate(() => fetch('/consent/me').then((r) => r.json() as Promise<{ states: Record<string, { state: string }> }>));
    const stateOf = async (ids: string[]) => { const { states } = await me(); return ids.map((id) => states[id]?.state); };
    // This page asks about ads (and shows the fraud checks, which need no answer): "Reject all"
    // refuses the ads it names, and objects to nothing else.
    await open(page, '/only');
    expect(await banner(page).textContent()).to.contain('Personalised ads').and.not.contain('Fraud checks');
    await banner(page).getByRole('button', { name: 'Reject all' }).click();
    await banner(page).waitFor({ state: 'detached' });
    expect(await stateOf(['ads', 'fraud', 'analytics'])).to.deep.equal(['denied', 'unset', 'unset']);
    // Here only analytics is still to answer: "Accept all" grants it and leaves the refused ads refused.
    await open(page, '/');
    await banner(page).waitFor();
    const text = await banner(page).textContent();
    expect(text).to.contain('Usage analytics').and.not.contain('Personalised ads');
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await banner(page).waitFor({ state: 'detached' });
    expect(await stateOf(['analytics', 'ads', 'fraud'])).to.deep.equal(['granted', 'denied', 'unset']);
    // From the dialog, "all" is every switch it shows.
    await page.getByRole('button', { name: 'Privacy choices' }).click();
    await dialog(page).getByRole('button', { name: 'Reject all' }).click();
    await dialog(page).waitFor({ state: 'detached' });
    expect(await stateOf(['analytics', 'ads', 'fraud'])).to.deep.equal(['denied', 'denied', 'denied']);
  });

  it('stops them from the next load after a withdrawal in the dialog opened by data-consent-open', async () => {
    const page = await visitor();
    await open(page);
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-tracker') === 'loaded');
    await page.getByRole('button', { name: 'Privacy choices' }).click();
    const analytics = dialog(page).getByRole('switch', { name: 'Usage analytics' });
    expect(await analytics.isChecked()).to.equal(true);
    await analytics.uncheck();
    await dialog(page).getByRole('button', { name: 'Save choices' }).click();
    await dialog(page).waitFor({ state: 'detached' });
    seen.length = 0;
    await page.reload();
    await page.waitForFunction(() => (window as { changes: unknown[] }).changes.length > 0);
    await page.waitForTimeout(300);
    expect(await trackerLoaded(page)).to.equal(null);
    expect(await banner(page).count(), 'a withdrawal is an answer').to.equal(0);
    expect(seen).to.deep.equal([]);
  });

  it('brings the banner back after a version bump, and runs nothing until asked again', async () => {
    const page = await visitor();
    await open(page);
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-tracker') === 'loaded');
    await start(2);
    try {
      seen.length = 0;
      await page.reload();
      await banner(page).waitFor();
      expect(await banner(page).textContent()).to.contain('Usage analytics');
      await page.waitForTimeout(300);
      expect(await trackerLoaded(page)).to.equal(null);
      expect(seen).to.deep.equal([]);
      await banner(page).getByRole('button', { name: 'Accept all' }).click();
      await page.waitForFunction(() => document.documentElement.getAttribute('data-tracker') === 'loaded');
    } finally {
      await start(2);
    }
  });

  it('works by keyboard alone: banner, dialog with focus trapped, Escape, switches and saving', async function () {
    const page = await visitor();
    await open(page);
    await banner(page).waitFor();
    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      return e ? (e.getAttribute('aria-label') ?? e.textContent ?? '').trim() || (e.id ? `#${e.id}` : e.tagName) : null;
    });
    await page.keyboard.press('Tab');
    expect(await focused()).to.equal('Accept all');
    await page.keyboard.press('Tab');
    expect(await focused()).to.equal('Reject all');
    await page.keyboard.press('Tab');
    expect(await focused()).to.equal('Choose');
    await page.keyboard.press('Enter');
    await dialog(page).waitFor();
    expect(await focused()).to.equal('#ec-switch-analytics');
    // Shift+Tab from the first control wraps to the last, Tab from the last back to the first.
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).to.equal('Close');
    await page.keyboard.press('Tab');
    expect(await focused()).to.equal('#ec-switch-analytics');
    await page.keyboard.press('Escape');
    await dialog(page).waitFor({ state: 'detached' });
    expect(await focused(), 'focus returns to what opened it').to.equal('Choose');
    await page.keyboard.press('Enter');
    await dialog(page).waitFor();
    await page.keyboard.press('Space');
    for (let i = 0; i < 20 && (await focused()) !== 'Save choices'; i += 1) await page.keyboard.press('Tab');
    expect(await focused()).to.equal('Save choices');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.documentElement.getAttribute('data-tracker') === 'loaded');
    expect(await banner(page).count()).to.equal(0);
  });

  it('keeps the page usable under the banner: room at its end, focused controls above it, focus and a status after saving', async () => {
    const page = await visitor({ width: 320 });
    await page.setViewportSize({ width: 320, height: 480 });
    await open(page);
    await banner(page).waitFor();
    type Box = { top: number; bottom: number };
    const geometry = () => page.evaluate(() => {
      const doc = document as unknown as { querySelector(s: string): { getBoundingClientRect(): Box } | null; body: unknown };
      const style = getComputedStyle(doc.body) as unknown as { paddingBottom: string };
      return { banner: doc.querySelector('.ec-banner')?.getBoundingClientRect() ?? null, opener: (doc.querySelector('[data-consent-open]') as { getBoundingClientRect(): Box }).getBoundingClientRect(), padding: parseFloat(style.paddingBottom) };
    });
    const before = await geometry();
    const bannerHeight = (before.banner as Box).bottom - (before.banner as Box).top;
    expect(before.padding, 'room for the banner at the end of the page').to.be.at.least(bannerHeight);
    // Tab past the banner's buttons to the page's own control: it is scrolled into view above the banner.
    for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.textContent === 'Privacy choices')); i += 1) await page.keyboard.press('Tab');
    const focused = await geometry();
    expect(focused.opener.bottom, 'the focused control is not under the banner').to.be.at.most((focused.banner as Box).top + 0.5);
    // Saving from the banner: focus goes to the page's choices control, and a status says it was
    // saved, in a live region that was on the page, empty, before (one added as it changes is not always read out).
    expect(await page.getByRole('status').evaluateAll((nodes) => nodes.map((n) => n.textContent))).to.deep.equal(['']);
    await banner(page).getByRole('button', { name: 'Reject all' }).focus();
    await page.keyboard.press('Enter');
    await banner(page).waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'Your choices are saved.' }).waitFor({ state: 'attached' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal('Privacy choices');
    expect((await geometry()).padding, 'the room is given back').to.equal(0);
  });

  it('keeps a dialog opened again at once after Escape (the first one\'s late close event leaves it alone)', async () => {
    const page = await visitor();
    await open(page);
    await banner(page).waitFor();
    await banner(page).getByRole('button', { name: 'Choose' }).click();
    await dialog(page).waitFor();
    // Escape and a new opening in one task, before the closed dialog's close event is delivered.
    const after = await page.evaluate(async () => {
      const doc = document as unknown as {
        querySelector(s: string): { dispatchEvent(e: unknown): void; click(): void };
        querySelectorAll(s: string): { length: number };
      };
      const W = window as { KeyboardEvent: new (type: string, init: unknown) => unknown; requestAnimationFrame(fn: () => void): void };
      doc.querySelector('dialog.ec-dialog').dispatchEvent(new W.KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
      doc.querySelector('[data-ec="choose"]').click();
      for (let i = 0; i < 3; i += 1) await new Promise<void>((resolve) => { W.requestAnimationFrame(() => { setTimeout(resolve, 20); }); });
      return doc.querySelectorAll('dialog.ec-dialog[open]').length;
    });
    expect(after).to.equal(1);
    await dialog(page).getByRole('button', { name: 'Close' }).click();
    await dialog(page).waitFor({ state: 'detached' });
  });

  for (const width of [1280, 390]) {
    it(`has no axe-core violation on the banner and the dialog at ${String(width)} px`, async function () {
      const axe = axeSource();
      // Skipped where axe-core is not installed (it is not a dev dependency yet); an error under CI.
      if (axe === null && process.env.CI) throw new Error('axe-core is needed: install it as a dev dependency or set AXE_CORE_PATH');
      if (axe === null) this.skip();
      const page = await visitor({ width, gpc: true });
      await open(page);
      await banner(page).waitFor();
      expect(await banner(page).textContent()).to.contain('Global Privacy Control');
      const audit = async () => {
        await page.evaluate(axe);
        return page.evaluate(async () => {
          const { axe: engine } = window as { axe: { run(c: unknown, o: unknown): Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } };
          const result = await engine.run(document, { resultTypes: ['violations'] });
          return result.violations.map((v) => `${v.id} (${String(v.nodes.length)})`);
        });
      };
      expect(await audit(), 'banner').to.deep.equal([]);
      await banner(page).getByRole('button', { name: 'Choose' }).click();
      await dialog(page).waitFor();
      expect(await dialog(page).textContent()).to.contain('Global Privacy Control');
      expect(await audit(), 'dialog').to.deep.equal([]);
      const box = await dialog(page).boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= width, 'the dialog fits the width').to.equal(true);
    });
  }

  it('asks only about the requirements its data-requirements attribute lists', async () => {
    const page = await visitor();
    await open(page, '/only');
    await banner(page).getByRole('button', { name: 'Choose' }).click();
    await dialog(page).waitFor();
    expect(await dialog(page).getByRole('switch').count()).to.equal(2);
    // A frame that needs a requirement not asked here is hidden all the same, its note without a button.
    expect(await page.locator('iframe[title="A gated frame"]').isVisible()).to.equal(false);
    expect(await page.locator('.ec-placeholder').textContent()).to.equal('This content needs your consent to: Usage analytics.');
    const items = (await dialog(page).locator('.ec-list > li').allTextContents()).join(' | ');
    expect(items).to.contain('Personalised ads').and.contain('Fraud checks').and.not.contain('Usage analytics');
    // The legitimate-interests switch is on with no grant: its note says why, and how to object,
    // and is read with the switch.
    const fraud = dialog(page).locator('.ec-list > li').filter({ hasText: 'Fraud checks' });
    const note = 'Based on our legitimate interests: this is on unless you object. To object, turn it off.';
    expect(await fraud.getByRole('switch').isChecked()).to.equal(true);
    expect(await fraud.locator('.ec-note').textContent()).to.equal(note);
    expect(await fraud.getByRole('switch').getAttribute('aria-describedby')).to.equal('ec-desc-fraud ec-basis-fraud');
    expect(await page.locator('#ec-basis-fraud').textContent()).to.equal(note);
    const ads = dialog(page).locator('.ec-list > li').filter({ hasText: 'Personalised ads' });
    expect(await ads.locator('.ec-note').count()).to.equal(0);
    await page.keyboard.press('Escape');
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await banner(page).waitFor({ state: 'detached' });
    const states = await page.evaluate(() => fetch('/consent/me').then((r) => r.json() as Promise<{ states: Record<string, { state: string }> }>));
    expect([states.states.ads?.state, states.states.analytics?.state]).to.deep.equal(['granted', 'unset']);
    // Nothing listed is left to answer: no banner there; elsewhere analytics still is.
    await open(page, '/only');
    await page.waitForTimeout(200);
    expect(await banner(page).count()).to.equal(0);
    await open(page, '/');
    await banner(page).waitFor();
    expect(await violations(page)).to.deep.equal([]);
  });

  it('honours the GPC signal: "Accept all" leaves the signalled requirement refused', async () => {
    const page = await visitor({ gpc: true });
    await open(page);
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await banner(page).waitFor({ state: 'detached' });
    const states = await page.evaluate(() => (window as { changes: Array<{ states: Record<string, { state: string }> }> }).changes.at(-1)?.states);
    expect(states?.analytics?.state).to.equal('granted');
    expect(states?.ads?.state).to.equal('denied');
  });

  it('does not ask in the banner what the GPC signal already refuses; the dialog still offers it', async () => {
    const page = await visitor({ gpc: true });
    await open(page);
    await banner(page).waitFor();
    expect(await banner(page).locator('p').first().textContent()).to.match(/^We would like your consent for: Usage analytics\./);
    expect(await banner(page).locator('.ec-gpc').textContent()).to.contain('refusal of: Personalised ads.').and.contain('turn these on yourself under Choose.');
    // A page that asks only about the signalled requirement has nothing left to ask: no banner
    // that "Accept all" could not answer and that would come back on every page.
    await open(page, '/only');
    await page.waitForTimeout(200);
    expect(await banner(page).count()).to.equal(0);
    await page.getByRole('button', { name: 'Privacy choices' }).click();
    await dialog(page).waitFor();
    // The dialog has no Choose button: its note points to the switches below it.
    expect(await dialog(page).locator('.ec-gpc').textContent()).to.contain('turn these on yourself below.');
    const ads = dialog(page).locator('.ec-list > li').filter({ hasText: 'Personalised ads' });
    expect(await ads.getByRole('switch').isChecked()).to.equal(false);
    expect(await ads.locator('.ec-note').textContent()).to.contain('Global Privacy Control');
    await ads.getByRole('switch').check();
    await dialog(page).getByRole('button', { name: 'Save choices' }).click();
    await dialog(page).waitFor({ state: 'detached' });
    const states = await page.evaluate(() => fetch('/consent/me').then((r) => r.json() as Promise<{ states: Record<string, { state: string; allowed: boolean }> }>));
    expect(states.states.ads).to.include({ state: 'granted', allowed: true });
  });

  it('works on a page whose CSP is script-src \'self\', with no violation', async () => {
    const page = await visitor();
    await open(page, '/strict');
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-gated') === 'ran');
    await page.getByRole('button', { name: 'Privacy choices' }).click();
    await dialog(page).waitFor();
    expect(await violations(page)).to.deep.equal([]);
    expect((page as Page & { errors: string[] }).errors).to.deep.equal([]);
  });

  it('refuses a write posted from another site', async () => {
    const before = (await consent.verify()).checked;
    const page = await visitor();
    const response = page.waitForResponse((r) => r.url().startsWith(origin()) && r.request().method() === 'POST');
    await page.goto(`${thirdOrigin()}/attack`);
    const answer = await response;
    expect(answer.status()).to.equal(403);
    expect(await answer.text()).to.contain('urn:express-consent:forbidden');
    expect((await consent.verify()).checked).to.equal(before);
  });
});
