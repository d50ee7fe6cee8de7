import { mkdirSync } from 'node:fs';
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { describeBrowser } from '../helpers/databases';
import { historyRows, launchChromium, NEWSLETTER_LABEL, section, signUp, startExample, TERMS_LABEL, type Running } from './browser-helpers';

describeBrowser('example app in Chromium', () => {
  let running: Running;
  let chromium: Browser;
  const contexts: BrowserContext[] = [];

  /** A fresh person (own cookies) in the one browser of this file. */
  async function browser({ javaScript = true } = {}): Promise<BrowserContext> {
    const context = await chromium.newContext({ baseURL: running.baseUrl, javaScriptEnabled: javaScript });
    contexts.push(context);
    return context;
  }

  before(async () => {
    running = await startExample();
    chromium = await launchChromium();
    mkdirSync('test-results', { recursive: true });
  });
  after(async () => {
    for (const context of contexts) await context.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    await chromium?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    await running?.stop();
  });

  it('refuses a sign-up without the terms and says why on the page', async () => {
    const page = await (await browser()).newPage();
    await page.goto('/sign-up');
    await page.getByLabel('Email address').fill('no-terms@example.com');
    await page.getByLabel(/^Password/).fill('correct horse battery');
    await page.getByLabel(NEWSLETTER_LABEL).check();
    await page.getByRole('button', { name: 'Create account' }).click();
    // The browser's own check stops the form first: the terms box is required.
    expect(await page.getByLabel(TERMS_LABEL).evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing)).to.equal(true);
    expect(new URL(page.url()).pathname).to.equal('/sign-up');

    // Without that check (an old browser, a script), the server refuses through collect().
    await page.locator('form[action="/sign-up"]').evaluate((form) => { (form as unknown as { noValidate: boolean }).noValidate = true; });
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Create account' }).click()]);
    expect(response.status()).to.equal(422);
    expect(await page.getByRole('alert').textContent()).to.contain('To open an account, please accept the terms of service.');
    expect(await page.getByLabel('Email address').inputValue()).to.equal('no-terms@example.com');
    expect(await page.getByLabel(NEWSLETTER_LABEL).isChecked()).to.equal(true);
    expect(await page.getByLabel(TERMS_LABEL).isChecked()).to.equal(false);

    await page.goto('/sign-in');
    await page.getByLabel('Email address').fill('no-terms@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').textContent()).to.contain('do not match an account');
  });

  it('signs up with the terms and the newsletter, and shows every requirement with its state', async () => {
    const page = await (await browser()).newPage();
    expect(await signUp(page, 'reader@example.com', { newsletter: true })).to.equal(303);
    expect(new URL(page.url()).pathname).to.equal('/preferences');
    expect(await page.locator('#notice').textContent()).to.contain('Your account is ready');
    const states = await page.locator('[data-requirement]').evaluateAll((els) =>
      els.map((el) => [el.getAttribute('data-requirement'), el.querySelector('[data-state]')?.getAttribute('data-state')]),
    );
    expect(states).to.deep.equal([['terms', 'granted'], ['newsletter', 'granted'], ['digest', 'unset'], ['analytics', 'unset'], ['partners.offers', 'unset']]);
    expect(await section(page, 'Usage analytics').textContent()).to.contain('We record which pages you open');
    expect(await historyRows(page)).to.have.length(2);
  });

  it('opens the guarded page once analytics is granted and blocks the very next request after a withdrawal', async () => {
    const context = await browser();
    const page = await context.newPage();
    await signUp(page, 'analyst@example.com');

    await page.goto('/insights');
    expect(page.url()).to.equal(`${running.baseUrl}/preferences?needs=analytics&next=%2Finsights`);
    await section(page, 'Usage analytics').getByRole('button', { name: 'Grant' }).click();
    await page.locator('[data-requirement="analytics"] [data-state="granted"]').waitFor();
    expect(await page.locator('#saved-analytics').textContent()).to.contain('Saved: Granted.');

    const allowed = await page.goto('/insights');
    expect(allowed?.status()).to.equal(200);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Reading insights');

    await page.goto('/preferences');
    await section(page, 'Usage analytics').getByRole('button', { name: 'Withdraw' }).click();
    await page.locator('[data-requirement="analytics"] [data-state="denied"]').waitFor();
    const refused = await context.request.get('/insights', { headers: { Accept: 'application/json' } });
    expect(refused.status()).to.equal(403);
    expect((await refused.json()).code).to.equal('consent_required');
    await page.goto('/insights');
    expect(new URL(page.url()).pathname).to.equal('/preferences');

    await page.screenshot({ path: 'test-results/preferences-after-withdrawal.png', fullPage: true });
    const rows = await historyRows(page);
    // Newest first, in words: the script sent the analytics decisions through the JSON API.
    expect(rows.map((r) => r.slice(1))).to.deep.equal([
      ['Usage analytics', 'Withdrawn', 'On our site'],
      ['Usage analytics', 'Granted', 'On our site'],
      ['Monthly newsletter', 'Denied', 'On our site'],
      ['Terms of service', 'Granted', 'On our site'],
    ]);
    expect(await page.locator('[data-requirement="analytics"] [data-state]').textContent()).to.equal('Withdrawn');
    const events = (await (await context.request.get('/consent/me/history')).json()) as { events: Array<{ source: string }> };
    expect(events.events.map((e) => e.source)).to.deep.equal(['api', 'api', 'form', 'form']);
  });

  it('works without JavaScript through plain forms, operated from the keyboard', async () => {
    const page = await (await browser({ javaScript: false })).newPage();
    await signUp(page, 'keyboard@example.com');
    await section(page, 'Offers from partners').getByRole('button', { name: 'Grant' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/updated=partners\.offers/);
    expect(await page.locator('[data-requirement="partners.offers"] [data-state]').getAttribute('data-state')).to.equal('granted');
    expect((await page.goto('/offers'))?.status()).to.equal(200);

    await page.goto('/preferences');
    await section(page, 'Offers from partners').getByRole('button', { name: 'Withdraw' }).press('Enter');
    await page.waitForURL(/updated=partners\.offers/);
    await page.goto('/offers');
    expect(new URL(page.url()).pathname).to.equal('/preferences');
    await page.screenshot({ path: 'test-results/preferences-without-javascript.png', fullPage: true });
    expect((await historyRows(page)).map((r) => r.slice(1, 3))).to.deep.equal([
      ['Offers from partners', 'Withdrawn'],
      ['Offers from partners', 'Granted'],
      ['Monthly newsletter', 'Denied'],
      ['Terms of service', 'Granted'],
    ]);
  });
});
