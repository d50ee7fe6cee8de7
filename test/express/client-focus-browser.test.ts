import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { clientBed, type ClientBed } from '../helpers/client-bed';
import { describeBrowser } from '../helpers/databases';

// The page's globals, as the callbacks given to page.evaluate() use them (no DOM types here).
interface Node { tagName: string; textContent: string | null; lang: string; closest(selector: string): Node | null }
declare const document: { activeElement: Node | null; querySelector(selector: string): Box; createRange(): { selectNodeContents(node: unknown): void; getBoundingClientRect(): Rect } };
interface Rect { left: number; right: number; top: number; bottom: number }
interface Box { getBoundingClientRect(): Rect }

/** A host page in `lang` with the client (its `data-lang` when given), a frame that needs `video`, and the page's own choices button. */
function hostPage(lang: string, dataLang?: string, skipLink = false): string {
  const scriptLang = dataLang === undefined ? '' : ` data-lang="${dataLang}"`;
  const skip = skipLink ? '<div class="skip"><a href="#main">Skip to content</a></div>' : '';
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host</title><script src="/consent/client.js"${scriptLang} defer></script></head>
<body>${skip}<main id="main"><h1>Host</h1><p>Some text.</p>
<iframe data-consent="video" data-src="about:blank" title="A video" width="300" height="150"></iframe>
<p><button type="button" data-consent-open>Privacy choices</button></p></main></body></html>`;
}

describeBrowser('the browser client in Chromium: where focus goes and what is said', function (this: Mocha.Suite) {
  this.timeout(60_000);
  let bed: ClientBed;

  before(async () => {
    bed = await clientBed([
      { id: 'video', controller: { name: 'Example Shop', contact: 'privacy@example.com' }, texts: { en: { title: 'Embedded videos', description: 'Videos from a video site.' }, de: { title: 'Eingebettete Videos', description: 'Videos einer Videoseite.' } } },
      { id: 'stats', texts: { en: { title: 'Statistics', description: 'We count page views.' }, de: { title: 'Statistik', description: 'Wir zählen Seitenaufrufe.' } } },
    ], (app) => {
      app.get('/skip', (_req, res) => { res.type('html').send(hostPage('en', undefined, true)); });
      // One wrapper holds the skip link and the whole page, as many single-page apps render.
      app.get('/wrapped', (_req, res) => {
        res.type('html').send(hostPage('en', undefined, true).replace('<body>', '<body><div id="root">').replace('</main>', '</main></div>'));
      });
      app.get('/:lang', (req, res) => { res.type('html').send(hostPage(req.params.lang)); });
      app.get('/:lang/:dataLang', (req, res) => { res.type('html').send(hostPage(req.params.lang, req.params.dataLang)); });
    });
  });
  after(async () => {
    await bed.close();
  });

  async function visit(path: string, width = 1280): Promise<Page> {
    const context = await bed.context({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    await page.goto(path);
    await page.locator('.ec-banner').waitFor();
    return page;
  }
  const focused = (page: Page) => page.evaluate(() => {
    const e = document.activeElement;
    return e ? `${e.tagName.toLowerCase()} ${(e.textContent ?? '').trim()}` : '';
  });

  /** A page whose banner was answered ("Reject all"), its status emptied once it said so. */
  async function answered(): Promise<{ page: Page; status: ReturnType<Page['getByRole']> }> {
    const page = await visit('/en');
    await page.locator('.ec-banner').getByRole('button', { name: 'Reject all' }).click();
    await page.locator('.ec-banner').waitFor({ state: 'detached' });
    const status = page.getByRole('status');
    await status.filter({ hasText: 'Your choices are saved.' }).waitFor({ state: 'attached' });
    await status.evaluate((e) => { e.textContent = ''; });
    return { page, status };
  }

  it('after a save in the dialog a frame\'s note opened, focus lands on the page and a status says it was saved', async () => {
    const { page, status } = await answered();

    // The note in the frame's place opens the dialog; the person turns the video on and saves.
    await page.locator('.ec-placeholder').getByRole('button', { name: 'Choose' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Privacy choices' });
    await dialog.waitFor();
    await dialog.getByRole('switch', { name: 'Embedded videos' }).focus();
    await page.keyboard.press('Space');
    await dialog.getByRole('button', { name: 'Save choices' }).focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await page.locator('iframe[title="A video"][src]').waitFor({ state: 'attached' });

    // The note (and the button that opened the dialog) went with the frame's loading.
    await status.filter({ hasText: 'Your choices are saved.' }).waitFor({ state: 'attached' });
    expect(await focused(page)).to.equal('button Privacy choices');
  });

  it('says it saved a choice made in a dialog the page\'s own button opened, focus staying on that button; says nothing when it is closed unsaved', async () => {
    const { page, status } = await answered();
    const dialog = page.getByRole('dialog', { name: 'Privacy choices' });
    const own = page.locator('main').getByRole('button', { name: 'Privacy choices' });
    // Closed with Escape: nothing saved, nothing said.
    await own.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused(page)).to.equal('button Privacy choices');
    await page.waitForTimeout(200);
    expect(await status.textContent()).to.equal('');
    // Saved: said, and focus stays where it came back to.
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('switch', { name: 'Statistics' }).focus();
    await page.keyboard.press('Space');
    await dialog.getByRole('button', { name: 'Save choices' }).focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await status.filter({ hasText: 'Your choices are saved.' }).waitFor({ state: 'attached' });
    expect(await focused(page)).to.equal('button Privacy choices');
  });

  it('comes after the page\'s skip link, which stays the first stop, and before the page\'s content', async () => {
    const page = await visit('/skip');
    const stops: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
    }
    expect(stops).to.deep.equal(['a Skip to content', 'button Accept all', 'button Reject all', 'button Choose', 'button Choose']);
    // Without a skip link it still comes first, and so it does when the skip link shares a wrapper with the whole page.
    for (const path of ['/en', '/wrapped']) {
      const other = await visit(path);
      await other.keyboard.press('Tab');
      expect(await focused(other), path).to.equal('button Accept all');
    }
  });

  it('wraps a long word (an address) in the dialog instead of scrolling sideways, at 320 px', async () => {
    const page = await visit('/en', 320);
    await page.locator('.ec-banner').getByRole('button', { name: 'Choose' }).click();
    const dialog = page.getByRole('dialog', { name: 'Privacy choices' });
    await dialog.waitFor();
    const fits = await dialog.evaluate((e) => {
      interface Sized { scrollWidth: number; clientWidth: number; textContent: string; getBoundingClientRect(): Rect }
      // The controller's contact, under "Who asks".
      const line = (e as unknown as { querySelector(s: string): Sized }).querySelector('.ec-info dd');
      line.textContent = 'Example Shop (dataprotectionofficer@exampleshopforeverything.example)';
      const box = (e as unknown as Sized).getBoundingClientRect();
      return { line: line.scrollWidth, room: line.clientWidth, right: box.right, width: (globalThis as unknown as { innerWidth: number }).innerWidth };
    });
    expect(fits.line, JSON.stringify(fits)).to.be.at.most(fits.room);
    expect(fits.right, JSON.stringify(fits)).to.be.at.most(fits.width);
  });

  it('marks its words as English on a page in a language the library has no words for', async () => {
    const page = await visit('/es');
    // The language each text is read in: that of its nearest element with a lang attribute.
    const langs = (selector: string) => page.locator(selector).evaluateAll((all) => all.map((e) => (e as unknown as Node).closest('[lang]')?.lang));
    const texts = '.ec-banner h2, .ec-banner p, .ec-banner button, .ec-placeholder span, .ec-placeholder button';
    expect(await langs(texts)).to.deep.equal(Array(7).fill('en'));
    await page.locator('.ec-banner').getByRole('button', { name: 'Choose' }).click();
    await page.getByRole('dialog', { name: 'Privacy choices' }).waitFor();
    expect(new Set(await langs('.ec-dialog h2, .ec-dialog p, .ec-dialog label, .ec-dialog button'))).to.deep.equal(new Set(['en']));
  });

  it('asks even on a page whose lang attribute is not a language tag: "de_DE" read as "de-DE", nonsense left to the browser\'s languages', async () => {
    const german = await visit('/de_DE');
    expect(await german.locator('.ec-banner').getByRole('button').allTextContents()).to.include('Auswählen');
    const nonsense = await visit(`/${encodeURIComponent(' not a tag!')}`);
    await nonsense.locator('.ec-banner').getByRole('button', { name: 'Choose' }).click();
    await nonsense.getByRole('dialog', { name: 'Privacy choices' }).waitFor();
    await nonsense.getByRole('button', { name: 'Close' }).click();
    await nonsense.getByRole('button', { name: 'Privacy choices' }).click();
    await nonsense.getByRole('dialog', { name: 'Privacy choices' }).waitFor();
    // A script's data-lang that is no tag gives way to the page's own language.
    const fallback = await visit(`/de/${encodeURIComponent('en_US.UTF-8')}`);
    expect(await fallback.locator('.ec-banner').getByRole('button').allTextContents()).to.include('Auswählen');
  });

  it('keeps the dialog\'s title clear of its close button at 320 px, in German', async () => {
    const page = await visit('/de', 320);
    await page.locator('.ec-banner').getByRole('button', { name: 'Auswählen' }).click();
    await page.getByRole('dialog', { name: 'Datenschutzeinstellungen' }).waitFor();
    const { title, close } = await page.evaluate(() => {
      const range = document.createRange();
      range.selectNodeContents(document.querySelector('#ec-dialog-title'));
      return { title: range.getBoundingClientRect(), close: document.querySelector('.ec-close').getBoundingClientRect() };
    });
    const apart = title.right <= close.left || title.top >= close.bottom;
    expect(apart, `title ${JSON.stringify(title)}, close button ${JSON.stringify(close)}`).to.equal(true);
  });

  it('draws the dialog\'s edge in forced colours (Windows high contrast), where its shadow is gone', async () => {
    const page = await visit('/en');
    await page.emulateMedia({ forcedColors: 'active' });
    await page.locator('.ec-banner').getByRole('button', { name: 'Choose' }).click();
    const dialog = page.getByRole('dialog', { name: 'Privacy choices' });
    await dialog.waitFor();
    const edge = await dialog.evaluate((e) => {
      const s = (globalThis as unknown as { getComputedStyle(x: unknown): Record<string, string> }).getComputedStyle(e);
      return { style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor };
    });
    expect(edge.style).to.equal('solid');
    expect(parseFloat(edge.width ?? '0')).to.be.at.least(1);
    expect(edge.color).to.not.match(/^rgba\(.*, 0\)$|transparent/);
  });
});
