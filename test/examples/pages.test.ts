import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import { createConsent, MemoryTracker } from '../../lib/index';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeViolations, describeAccessible, horizontalOverflow, type BrowserWindow } from '../helpers/axe';
import { launchChromium, section, signUp, startExample, TERMS_LABEL, type Running } from './browser-helpers';

const SHOTS = 'test-results/pages';
const WIDTHS = [1280, 390];

describeAccessible('every page of the example, in Chromium at 1280 and 390 px', () => {
  let running: Running;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const cspErrors: string[] = [];

  async function person(options: { javaScript?: boolean; admin?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({
      baseURL: running.baseUrl,
      javaScriptEnabled: options.javaScript ?? true,
      ...(options.admin ? { httpCredentials: { username: 'admin', password: running.example.adminPassword } } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspErrors.push(`${page.url()}: ${message.text()}`);
    });
    return page;
  }

  /** axe-core finds nothing, nothing scrolls sideways, and a screenshot is kept, at each width. */
  async function check(page: Page, name: string, widths = WIDTHS): Promise<void> {
    for (const width of widths) {
      await page.setViewportSize({ width, height: 860 });
      expect(await axeViolations(page), `${name} at ${String(width)} px`).to.deep.equal([]);
      expect(await horizontalOverflow(page), `${name} scrolls sideways at ${String(width)} px`).to.be.at.most(0);
      await page.screenshot({ path: `${SHOTS}/${name}-${String(width)}.png`, fullPage: true });
    }
    // A phone with the reader's text at twice the size: still nothing scrolls sideways.
    await page.setViewportSize({ width: 320, height: 860 });
    await page.evaluate(() => { (globalThis as unknown as BrowserWindow).document.documentElement.style.fontSize = '200%'; });
    expect(await horizontalOverflow(page), `${name} scrolls sideways at 320 px with text at 200%`).to.be.at.most(0);
    await page.screenshot({ path: `${SHOTS}/${name}-320-200.png`, fullPage: true });
    await page.evaluate(() => { (globalThis as unknown as BrowserWindow).document.documentElement.style.fontSize = ''; });
    await page.setViewportSize({ width: 1280, height: 860 });
    // And for a person who prefers dark: the library's pages turn dark, a host's page as it declares.
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axeViolations(page), `${name} in the dark scheme`).to.deep.equal([]);
    await page.screenshot({ path: `${SHOTS}/${name}-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  }

  const focused = (page: Page) => page.evaluate(() => {
    const el = (globalThis as unknown as BrowserWindow).document.activeElement;
    return el ? `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} ${(el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 200)}` : '';
  });

  /** The focused element once the page has applied its `autofocus` (after the load event). */
  async function settledFocus(page: Page): Promise<string> {
    for (let i = 0; i < 20; i += 1) {
      const now = await focused(page);
      if (!now.startsWith('body')) return now;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return focused(page);
  }

  /** Presses Tab until the focused element's text matches, at most `limit` times. */
  async function tabTo(page: Page, text: RegExp, limit = 40): Promise<void> {
    for (let i = 0; i < limit; i += 1) {
      await page.keyboard.press('Tab');
      if (text.test(await focused(page))) return;
    }
    throw new Error(`no ${String(text)} within ${String(limit)} tabs; focus is on ${await focused(page)}`);
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    running = await startExample();
    browser = await launchChromium();
  });
  after(async () => {
    for (const context of contexts) await context.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    await browser?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    await running?.stop();
  });
  afterEach(() => {
    expect(cspErrors, 'Content-Security-Policy violations').to.deep.equal([]);
  });

  it('the pages of a visitor', async () => {
    const page = await person();
    for (const [path, name] of [['/', 'home'], ['/sign-up', 'sign-up'], ['/sign-in', 'sign-in'], ['/legal/terms', 'terms'], ['/legal/privacy', 'privacy'], ['/nowhere', 'not-found']]) {
      await page.goto(path as string);
      await check(page, name as string);
    }
  });

  it('sign-up from the keyboard: statements as labels, required and optional in words, a focused error summary', async () => {
    await signUp(await person(), 'taken@example.com');
    const page = await person();
    await page.goto('/sign-up');
    expect(await page.getByLabel(TERMS_LABEL).count()).to.equal(1);
    expect(await page.locator('label[for="consent-terms"]').textContent()).to.equal('I accept the terms of service (required)');
    expect(await page.locator('label[for="consent-newsletter"]').textContent()).to.equal('Send me the monthly newsletter (optional)');

    // Keyboard only: the address is taken, which only the server can tell.
    await tabTo(page, /^input#email/);
    await page.keyboard.type('taken@example.com');
    await page.keyboard.press('Tab');
    await page.keyboard.type('correct horse battery');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    expect(await settledFocus(page)).to.match(/^div#error-summary Please correct the following An account with this email address already exists/);
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.match(/^a An account with this email/);
    await page.keyboard.press('Enter');
    expect(await focused(page)).to.match(/^input#email/);
    expect(await page.locator('#email').getAttribute('aria-invalid')).to.equal('true');
    await check(page, 'sign-up-error');

    // Without the browser's own check (an old browser), the server refuses the missing terms.
    await page.goto('/sign-up');
    await page.locator('form[action="/sign-up"]').evaluate((form) => { (form as unknown as { noValidate: boolean }).noValidate = true; });
    await page.getByLabel('Email address').fill('no-terms@example.com');
    await page.getByLabel(/^Password/).fill('correct horse battery');
    await Promise.all([page.waitForEvent('load'), page.getByLabel('Password').press('Enter')]);
    expect(await settledFocus(page)).to.match(/^div#error-summary .*please accept the terms of service/);
    const terms = page.locator('#consent-terms');
    expect(await terms.getAttribute('aria-invalid')).to.equal('true');
    expect(await terms.getAttribute('aria-describedby')).to.equal('consent-terms-error consent-terms-description');
    expect(await page.locator('#consent-terms-error').textContent()).to.equal('To open an account, please accept the terms of service.');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await focused(page)).to.match(/^input#consent-terms/);
    await page.keyboard.press('Space');
    expect(await terms.isChecked()).to.equal(true);
    await check(page, 'sign-up-missing-terms');
  });

  it('the grant, deny and withdraw buttons look the same: size, weight, colours, border', async () => {
    const page = await person();
    await signUp(page, 'fair@example.com');
    const looks = (name: string, card: string) => section(page, card).getByRole('button', { name, exact: true }).evaluate((el) => {
      const s = (globalThis as unknown as BrowserWindow).getComputedStyle(el);
      const box = (el as unknown as { getBoundingClientRect(): { width: number; height: number } }).getBoundingClientRect();
      const sides = ['top', 'right', 'bottom', 'left'].map((side) => ['width', 'style', 'color'].map((p) => s.getPropertyValue(`border-${side}-${p}`)).join(' '));
      const [fontSize, fontWeight, color, background, radius] = ['font-size', 'font-weight', 'color', 'background-color', 'border-radius'].map((name) => s.getPropertyValue(name));
      return { width: Math.round(box.width), height: Math.round(box.height), fontSize, fontWeight, color, background, border: [...sides, radius].join(' / ') };
    });
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 860 });
      const grant = await looks('Grant', 'Usage analytics');
      expect(await looks('Deny', 'Usage analytics'), `at ${String(width)} px`).to.deep.equal(grant);
    }
    await section(page, 'Usage analytics').getByRole('button', { name: 'Grant' }).click();
    await page.locator('#saved-analytics').waitFor();
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 860 });
      expect(await looks('Withdraw', 'Usage analytics'), `at ${String(width)} px`).to.deep.equal(await looks('Grant', 'Offers from partners'));
    }
  });

  it('grant and withdraw from the keyboard: focus stays on the card, which says what happened', async () => {
    const page = await person();
    await page.setViewportSize({ width: 390, height: 700 });
    await signUp(page, 'keys@example.com');
    await page.locator('#title-analytics').scrollIntoViewIfNeeded();
    await section(page, 'Usage analytics').getByRole('link').focus();
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('button Grant');
    const before = await page.evaluate(() => (globalThis as unknown as BrowserWindow).scrollY);
    expect(before).to.be.greaterThan(0);
    await page.keyboard.press('Enter');
    await page.locator('#saved-analytics').waitFor();
    expect(await focused(page)).to.equal('p#saved-analytics Saved: Granted.');
    const after = await page.evaluate(() => (globalThis as unknown as BrowserWindow).scrollY);
    expect(after, 'the page jumped to the top').to.be.greaterThan(0);
    expect(await page.locator('#saved-analytics').isVisible()).to.equal(true);

    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('button Withdraw');
    await page.keyboard.press('Enter');
    await page.locator('#saved-analytics', { hasText: 'Withdrawn' }).waitFor();
    expect(await focused(page)).to.equal('p#saved-analytics Saved: Withdrawn.');
    expect(await page.locator('[data-requirement="analytics"] [data-state]').textContent()).to.equal('Withdrawn');
    // Every answer looks alike: a refusal is not shown as an error, a grant not as the right one.
    const colour = (id: string) => page.locator(`[data-requirement="${id}"] [data-state]`).evaluate((e) => (globalThis as unknown as { getComputedStyle(x: unknown): { color: string } }).getComputedStyle(e).color);
    expect(await page.locator('[data-requirement="terms"] [data-state]').textContent()).to.equal('Granted');
    expect(await colour('analytics')).to.equal(await colour('terms'));
    expect(await page.locator('#history tbody tr').first().textContent()).to.match(/Usage analytics\s+Withdrawn\s+On our site/);
    await check(page, 'preferences-after-withdrawal', [1280, 390, 320]);
  });

  it('the guarded page: names and focuses what it needs, and after a keyboard grant offers the way back', async () => {
    const page = await person();
    await signUp(page, 'guarded@example.com');
    await page.goto('/insights');
    expect(page.url()).to.equal(`${running.baseUrl}/preferences?needs=analytics&next=%2Finsights`);
    expect(await settledFocus(page)).to.match(/^section#req-analytics Usage analytics Reading insights needs your consent to this/);
    expect(await page.locator('main > .notice').textContent()).to.match(/Reading insights needs your consent to\s+Usage analytics/);
    await check(page, 'preferences-guarded');
    await tabTo(page, /^button Grant$/);
    await page.keyboard.press('Enter');
    await page.locator('#saved-analytics').waitFor();
    expect(await focused(page)).to.equal('p#saved-analytics Saved: Granted. Continue to Reading insights');
    expect(await page.getByText('needs your consent').count(), 'the notice is gone').to.equal(0);
    await page.keyboard.press('Tab');
    expect(await focused(page)).to.equal('a Continue to Reading insights');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/insights');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Reading insights');
    await check(page, 'insights');
  });

  it('the same without JavaScript: plain forms, the same focus and words', async () => {
    const page = await person({ javaScript: false });
    await signUp(page, 'plain@example.com');
    await page.goto('/offers');
    expect(await settledFocus(page)).to.match(/^section#req-partners\.offers Offers from partners Partner offers needs your consent/);
    await tabTo(page, /^button Grant$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/updated=partners\.offers/);
    expect(await settledFocus(page)).to.equal('p#saved-partners.offers Saved: Granted. Continue to Partner offers');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/offers');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Partner offers');
    // axe-core needs script: the same person, in a browser that runs it.
    const scripted = await browser.newContext({ baseURL: running.baseUrl, storageState: await page.context().storageState() });
    contexts.push(scripted);
    const offers = await scripted.newPage();
    await offers.goto('/offers');
    await check(offers, 'offers');
  });

  it('the contract has no withdraw button but says what the person can do; receipt and export download', async () => {
    const page = await person();
    await signUp(page, 'records@example.com');
    const terms = section(page, 'Terms of service');
    expect(await terms.getByRole('button').count()).to.equal(0);
    expect(await terms.textContent()).to.contain('you can close your account at any time');
    const text = (await page.locator('main').textContent()) ?? '';
    for (const jargon of ['Text version', 'Stops counting', 'acknowledgement', 'Lawful basis', '(script)', 'Through']) expect(text).not.to.contain(jargon);
    for (const [link, file] of [['Download your consent receipt', 'consent-receipt.json'], ['Download everything we keep about your choices', 'consent-export.json']]) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: link }).click()]);
      expect(download.suggestedFilename()).to.equal(file);
    }
    await check(page, 'preferences', [1280, 390, 320]);
  });

  it('double opt-in: the mailbox shows the email, its link confirms once, and opening it again says so', async () => {
    const page = await person();
    await signUp(page, 'digest@example.com');
    await section(page, 'Weekly reading digest').getByRole('button', { name: 'Grant' }).click();
    await page.locator('#saved-digest').waitFor();
    expect(await page.locator('[data-requirement="digest"] [data-state]').textContent()).to.equal('Waiting for you to confirm by email');
    await section(page, 'Weekly reading digest').getByRole('link', { name: 'development mailbox' }).click();
    await page.getByRole('heading', { name: 'Please confirm: Weekly reading digest' }).waitFor();
    await check(page, 'mailbox');
    await page.getByRole('link', { name: 'Confirm my address' }).click();
    await page.getByRole('heading', { name: 'Please confirm your consent' }).waitFor();
    const link = page.url();
    await check(page, 'confirm-preview');
    await page.getByRole('button', { name: 'Confirm my consent' }).click();
    await page.getByRole('heading', { name: 'Thank you, your consent is confirmed' }).waitFor();
    await check(page, 'confirm-done');
    await page.goto(link);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('You have already confirmed');
    expect(await page.locator('main').textContent()).to.contain('Your confirmation went through').and.contain('Weekly reading digest');
    await check(page, 'confirm-again');
    await page.goto('/preferences');
    expect(await page.locator('[data-requirement="digest"] [data-state]').textContent()).to.equal('Granted');
  });

  it('the admin console in the example: behind the password, readable at both widths', async () => {
    await running.example.consent.record('console-demo', { terms: 'granted', newsletter: 'granted', analytics: 'granted' }, { note: 'a long note that must wrap on a small screen instead of widening the page' });
    await running.example.consent.record('console-demo', { newsletter: 'denied' });
    const refused = await (await person()).request.get('/consent/admin/console/');
    expect(refused.status()).to.equal(401);
    expect(refused.headers()['www-authenticate']).to.match(/^Basic realm=/);
    const page = await person({ admin: true });
    await page.goto('/consent/admin/console/');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Consent overview');
    expect(await page.locator('header .brand').count(), 'in the example layout').to.equal(1);
    await check(page, 'console-overview');
    await page.getByRole('link', { name: 'Subject lookup' }).click();
    await page.getByLabel('Subject id').fill('console-demo');
    await page.getByRole('button', { name: 'Look up' }).click();
    const stamp = page.locator('table.history time').first();
    expect(await stamp.getAttribute('datetime')).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await stamp.textContent()).to.match(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d:\d\d [A-Z]/);
    await check(page, 'console-subject');
    await page.getByLabel('Subject id').fill('nobody-at-all');
    await page.getByLabel('Subject id').press('Enter');
    await page.locator('.no-record').waitFor();
    expect(await page.locator('.no-record').textContent()).to.contain('No record of this subject');
    expect(await page.locator('table').count()).to.equal(0);
    await check(page, 'console-no-record');
  });

  it('staff find a person in the console by the email address they wrote from', async () => {
    const reader = await person();
    await signUp(reader, 'writes-in@example.com');
    await reader.goto('/preferences');
    const accountId = (await reader.locator('code.account-id').textContent()) ?? '';
    expect(accountId).to.match(/^[0-9a-f-]{36}$/);
    await check(reader, 'preferences-account-number', [390]);
    const page = await person({ admin: true });
    await page.goto('/');
    await page.getByRole('link', { name: 'find a person by email' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Find a person’s consent records');
    await check(page, 'staff-find');
    await page.getByLabel('Email address').fill('nobody@example.com');
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await page.getByRole('alert').textContent()).to.equal('No account uses nobody@example.com.');
    expect(await page.getByLabel('Email address').inputValue(), 'the address stays to correct it').to.equal('nobody@example.com');
    expect(page.url(), 'the address is posted, not put in the URL').to.not.contain('nobody');
    await check(page, 'staff-find-missing');
    await page.getByLabel('Email address').fill('Writes-In@example.com');
    await page.getByLabel('Email address').press('Enter');
    await page.waitForURL(/\/consent\/admin\/console\/subject\?id=/);
    expect(new URL(page.url()).searchParams.get('id')).to.equal(accountId);
    expect(await page.getByLabel('Subject id').inputValue()).to.equal(accountId);
    expect(await page.locator('.no-record').count()).to.equal(0);
  });

  it('the library\'s own pages in its default look: confirmation pages and console', async () => {
    const clock = { ms: Date.parse('2026-11-23T12:00:00.000Z') };
    const consent = createConsent({ tracker: new MemoryTracker(), secret: 'p'.repeat(32), now: () => new Date(clock.ms), logger: { warn() {}, error() {} }, subject: (req) => req.get('x-user'), admin: { authorize: (req) => req.get('x-admin') === 'yes' }, confirm: { ttlMs: 3_600_000 } });
    consent.register([
      { id: 'news', title: 'Weekly news', description: 'A short email every Friday about what changed.', url: 'https://example.com/news', doubleOptIn: true },
      { id: 'stats', title: 'Usage statistics', description: 'We count page views.' },
    ]);
    const tokens: string[] = [];
    consent.on('confirmation', (payload) => void tokens.push(payload.token));
    await consent.ready();
    await consent.record('ann', { news: 'granted', stats: 'granted' }, { note: 'a note long enough to wrap on a phone rather than widen the page at all' });
    await consent.record('bob', { news: 'granted' });
    const app = express();
    app.use('/consent', consent.router());
    const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => { resolve(s); }); });
    try {
      const address = server.address();
      const base = `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}`;
      const page = await person();
      await page.goto(`${base}/consent/confirm/${tokens[0] as string}`);
      await check(page, 'library-confirm-preview');
      expect(await page.getByRole('link', { name: 'Back to the site' }).getAttribute('href')).to.equal('/');
      await page.getByRole('button', { name: 'Confirm my consent' }).click();
      await page.getByRole('heading', { name: 'Thank you, your consent is confirmed' }).waitFor();
      await check(page, 'library-confirm-done');
      await page.goto(`${base}/consent/confirm/${tokens[0] as string}`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('You have already confirmed');
      await check(page, 'library-confirm-again');
      clock.ms += 3_600_000;
      await page.goto(`${base}/consent/confirm/${tokens[1] as string}`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('This link has expired');
      await check(page, 'library-confirm-expired');
      await page.goto(`${base}/consent/confirm/not-a-token`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('This link no longer works');

      const admin = await browser.newContext({ extraHTTPHeaders: { 'x-admin': 'yes' } });
      contexts.push(admin);
      const console = await admin.newPage();
      await console.goto(`${base}/consent/admin/console/`);
      await check(console, 'library-console-overview');
      await console.goto(`${base}/consent/admin/console/subject?id=ann`);
      await check(console, 'library-console-subject');
      await console.goto(`${base}/consent/admin/console/subject?id=nobody`);
      expect(await console.locator('.no-record').textContent()).to.contain('No record of this subject');
      await check(console, 'library-console-no-record');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await consent.close();
    }
  });
});
