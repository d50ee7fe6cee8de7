import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { axeViolations, describeAccessible, horizontalOverflow } from '../helpers/axe';
import { clientBed, type ClientBed } from '../helpers/client-bed';
import { contrast } from '../helpers/contrast';

// The page's globals, as the callbacks given to page.evaluate() use them (no DOM types here).
interface Rect { width: number; height: number; right: number }
interface Element { getBoundingClientRect(): Rect }
declare const document: { querySelector(selector: string): Element; activeElement: Element | null };
interface Style { fontSize: string; paddingTop: string; color: string; backgroundColor: string; outlineColor: string; outlineStyle: string }
declare function getComputedStyle(element: unknown): Style;

/** The host's own style: none, a declared colour scheme, a small root font size. */
const HOSTS: Record<string, string> = {
  plain: '',
  scheme: ':root{color-scheme:light dark}',
  'small-root': 'html{font-size:10px}',
  'small-root-scheme': 'html{font-size:62.5%;color-scheme:light dark}',
};

function hostPage(css: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host</title><style>${css}</style><script src="/consent/client.js" defer></script></head>
<body><main><h1>Host</h1><p>Some text.</p>
<iframe data-consent="video" data-src="about:blank" title="A video" width="300" height="150"></iframe>
<iframe data-consent="maps" data-src="about:blank" title="A map" width="300" height="150"></iframe>
<p><button type="button" data-consent-open>Privacy choices</button></p></main></body></html>`;
}

/** Whether a computed colour is nearer black than white. */
const dark = (colour: string) => contrast(colour, 'rgb(255, 255, 255)') > contrast(colour, 'rgb(0, 0, 0)');

describeAccessible('the browser client in Chromium: the visitor\'s font size and the host\'s colour scheme', function (this: Mocha.Suite) {
  this.timeout(90_000);
  let bed: ClientBed;

  before(async () => {
    bed = await clientBed([
      { id: 'video', title: 'Embedded videos', description: 'Videos from a video site.', url: '/privacy#video' },
      { id: 'stats', title: 'Statistics', description: 'We count page views.' },
      // A word that fits a line of its own but not beside the switch on a phone.
      { id: 'reach', title: 'Reichweitenmessung', description: 'Wir zählen Seitenaufrufe.' },
      // One long word, as German and French compounds or a provider's name give.
      { id: 'maps', title: 'Kartendienstanbieterinformationsverarbeitungseinwilligung', description: 'Maps from a map service.' },
    ], (app) => {
      app.get('/:host', (req, res, next) => {
        const css = HOSTS[req.params.host];
        if (css === undefined) { next(); return; }
        res.type('html').send(hostPage(css));
      });
    });
  });
  after(async () => {
    await bed.close();
  });

  /** The host page with the banner shown, for a person with this default font size and scheme. */
  async function visit(host: string, { fontSize = 16, scheme = 'light', width = 1280, height = 800 }: { fontSize?: number; scheme?: 'light' | 'dark'; width?: number; height?: number } = {}): Promise<Page> {
    const context = await bed.context({ viewport: { width, height }, colorScheme: scheme });
    const page = await context.newPage();
    // The browser's "font size" setting, as a person sets it in the preferences.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Page.setFontSizes', { fontSizes: { standard: fontSize } });
    await page.goto(`/${host}`);
    await page.locator('.ec-banner').waitFor();
    await page.locator('.ec-placeholder').first().waitFor();
    return page;
  }
  async function openDialog(page: Page) {
    await page.locator('.ec-banner').getByRole('button', { name: 'Choose' }).click();
    await page.getByRole('dialog', { name: 'Privacy choices' }).waitFor();
  }

  /** For each element `selector` finds, whether it is wholly inside the banner's visible box. */
  const inBanner = (page: Page, selector: string) => page.evaluate((found) => {
    type Box = Rect & { top: number; bottom: number };
    const doc = document as unknown as { querySelectorAll(s: string): Iterable<Element>; querySelector(s: string): Element };
    const area = doc.querySelector('.ec-banner').getBoundingClientRect() as Box;
    return [...doc.querySelectorAll(found)].map((e) => {
      const box = e.getBoundingClientRect() as Box;
      return box.top >= area.top && box.bottom <= area.bottom;
    });
  }, selector);

  /**
   * The words of the dialog's titles laid out on more than one line, but for a word wider than
   * the whole line (which has to break somewhere).
   */
  const brokenWords = (page: Page) => page.evaluate(() => {
    interface TextNode { textContent: string }
    const doc = document as unknown as {
      querySelectorAll(s: string): Iterable<{ firstChild: TextNode; parentElement: { clientWidth: number } }>;
      createRange(): { setStart(n: TextNode, i: number): void; setEnd(n: TextNode, i: number): void; getClientRects(): Iterable<{ width: number }> };
    };
    const broken: string[] = [];
    for (const label of doc.querySelectorAll('.ec-label')) {
      for (const word of label.firstChild.textContent.matchAll(/\S+/g)) {
        const range = doc.createRange();
        range.setStart(label.firstChild, word.index);
        range.setEnd(label.firstChild, word.index + word[0].length);
        const lines = [...range.getClientRects()];
        const width = lines.reduce((sum, line) => sum + line.width, 0);
        if (lines.length > 1 && width <= label.parentElement.clientWidth) broken.push(word[0]);
      }
    }
    return broken;
  });

  /** Font sizes and the sizes of what one taps, in CSS pixels. */
  const banner = (page: Page) => page.evaluate(() => {
    const [root, title, button, placeholder] = ['.ec-banner', '.ec-banner .ec-title', '.ec-banner .ec-btn', '.ec-placeholder'].map((s) => getComputedStyle(document.querySelector(s)));
    const [buttonBox, placeholderButtonBox] = ['.ec-banner .ec-btn', '.ec-placeholder .ec-btn'].map((s) => document.querySelector(s).getBoundingClientRect());
    return {
      font: root?.fontSize, title: title?.fontSize, button: button?.fontSize, placeholder: placeholder?.fontSize, padding: root?.paddingTop,
      buttonHeight: buttonBox?.height ?? 0, placeholderButtonHeight: placeholderButtonBox?.height ?? 0,
    };
  });
  const dialog = (page: Page) => page.evaluate(() => {
    const [close, toggle, button] = ['.ec-close', '.ec-switch', '.ec-dialog .ec-btn'].map((s) => document.querySelector(s).getBoundingClientRect());
    return { font: getComputedStyle(document.querySelector('.ec-dialog')).fontSize, close: close as Rect, toggle: toggle as Rect, button: button as Rect };
  });

  for (const host of ['plain', 'small-root']) {
    it(`sizes the banner, the note and the dialog from a 24 px default font size (${host} host)`, async () => {
      const page = await visit(host, { fontSize: 24 });
      const sizes = await banner(page);
      expect(sizes).to.include({ font: '24px', title: '27px', button: '24px', padding: '24px', placeholder: '24px' });
      expect(sizes.buttonHeight).to.be.at.least(2.75 * 24);
      expect(sizes.placeholderButtonHeight).to.be.at.least(2.75 * 24);
      expect(await axeViolations(page)).to.deep.equal([]);
      await openDialog(page);
      const inside = await dialog(page);
      expect(inside.font).to.equal('24px');
      for (const target of [inside.close, inside.button]) expect(Math.min(target.width, target.height)).to.be.at.least(2.75 * 24);
      expect(inside.toggle.width).to.be.at.least(2.75 * 24);
      expect(await axeViolations(page)).to.deep.equal([]);
    });
  }

  it('is not shrunk by a host whose root font size is 10 px, at the usual 16 px default', async () => {
    const sizes = await banner(await visit('small-root'));
    expect(sizes).to.include({ font: '16px', title: '18px', button: '16px', padding: '16px', placeholder: '16px' });
    expect(sizes.buttonHeight).to.be.at.least(44);
    expect(sizes.placeholderButtonHeight).to.be.at.least(44);
  });

  for (const host of ['scheme', 'small-root-scheme']) {
    it(`is dark for a person who prefers dark on a host that declares both schemes (${host} host)`, async () => {
      const page = await visit(host, { scheme: 'dark' });
      const colours = (selector: string) => page.locator(selector).first().evaluate((e) => {
        const s = getComputedStyle(e);
        return { color: s.color, background: s.backgroundColor };
      });
      for (const selector of ['.ec-banner', '.ec-placeholder']) {
        const { color, background } = await colours(selector);
        expect(dark(background), `${selector} background ${background}`).to.equal(true);
        expect(contrast(color, background)).to.be.at.least(4.5);
      }
      // The focus ring, drawn beside the button, against the banner's background.
      await page.keyboard.press('Tab');
      const ring = await page.evaluate(() => ({ ...getComputedStyle(document.activeElement), banner: getComputedStyle(document.querySelector('.ec-banner')).backgroundColor }));
      expect(ring.outlineStyle).to.equal('solid');
      expect(contrast(ring.outlineColor, ring.banner)).to.be.at.least(3);
      expect(await axeViolations(page)).to.deep.equal([]);
      await openDialog(page);
      const { color, background } = await colours('.ec-dialog');
      expect(dark(background), `dialog background ${background}`).to.equal(true);
      expect(contrast(color, background)).to.be.at.least(4.5);
      expect(await axeViolations(page)).to.deep.equal([]);
    });
  }

  it('stays light for a person who prefers dark on a host that declares no colour scheme', async () => {
    const page = await visit('plain', { scheme: 'dark' });
    const background = (selector: string) => page.locator(selector).first().evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(await background('.ec-banner')).to.equal('rgb(255, 255, 255)');
    expect(await background('.ec-placeholder')).to.equal('rgb(255, 255, 255)');
    expect(await axeViolations(page)).to.deep.equal([]);
    await openDialog(page);
    expect(await background('.ec-dialog')).to.equal('rgb(255, 255, 255)');
    expect(await axeViolations(page)).to.deep.equal([]);
  });

  for (const fontSize of [16, 20, 24, 32]) {
    it(`fits a 320 px wide window with a ${String(fontSize)} px default font size`, async () => {
      const page = await visit('small-root-scheme', { fontSize, width: 320, scheme: 'dark' });
      expect(await horizontalOverflow(page), 'with the banner').to.be.at.most(0);
      // On a screen tall enough for it (28 lines of the reader's text), the three choices are in
      // sight without scrolling the banner, and so is the message of a save that failed.
      if (fontSize < 32) {
        expect(await inBanner(page, '.ec-banner .ec-btn'), 'the banner\'s buttons in sight').to.deep.equal([true, true, true]);
        await page.route('**/consent/me', (route) => (route.request().method() === 'POST' ? route.fulfill({ status: 503, contentType: 'application/problem+json', body: '{"status":503}' }) : route.fallback()));
        await page.locator('.ec-banner').getByRole('button', { name: 'Accept all' }).click();
        await page.locator('.ec-banner').getByRole('alert').waitFor();
        expect(await inBanner(page, '.ec-banner .ec-error'), 'the failure in sight').to.deep.equal([true]);
        await page.unroute('**/consent/me');
      }
      await page.screenshot({ path: `test-results/client-banner-320-${String(fontSize)}px.png` });
      await openDialog(page);
      expect(await horizontalOverflow(page), 'with the dialog').to.be.at.most(0);
      expect(await brokenWords(page), 'words of a title broken across lines').to.deep.equal([]);
      const { close } = await dialog(page);
      expect(close.right).to.be.at.most(320);
      expect(await axeViolations(page)).to.deep.equal([]);
    });
  }

  for (const [width, height, fontSize] of [[320, 256, 16], [740, 360, 32], [320, 568, 32]] as const) {
    it(`lets the banner's words be read on a short screen: ${String(width)} × ${String(height)} px, ${String(fontSize)} px text`, async () => {
      const page = await visit('plain', { fontSize, width, height });
      // At the top of the banner, nothing covers its title and words; its buttons are further down.
      const [title, text, actions] = await page.evaluate(() => {
        const doc = document as unknown as { querySelector(s: string): Element };
        return ['.ec-banner .ec-title', '.ec-banner p', '.ec-banner .ec-actions'].map((s) => doc.querySelector(s).getBoundingClientRect() as Rect & { top: number; bottom: number });
      });
      expect(title?.bottom, 'the title above the buttons').to.be.at.most(actions?.top ?? 0);
      expect(text?.bottom, 'the words above the buttons').to.be.at.most(actions?.top ?? 0);
      await page.locator('.ec-banner').getByRole('button', { name: 'Choose' }).scrollIntoViewIfNeeded();
      expect(await inBanner(page, '.ec-banner .ec-btn[data-ec="choose"]'), 'the last button reached by scrolling the banner').to.deep.equal([true]);
    });
  }

  it('wraps a title of one long word at 320 px: every switch stays in the dialog, which never scrolls sideways', async () => {
    const page = await visit('plain', { width: 320 });
    const placeholder = () => page.evaluate(() => {
      const notes = [...(document as unknown as { querySelectorAll(s: string): Array<{ scrollWidth: number; clientWidth: number }> }).querySelectorAll('.ec-placeholder')];
      return notes.map((n) => n.scrollWidth - n.clientWidth);
    });
    expect(await placeholder(), 'the notes in place of the frames').to.deep.equal([0, 0]);
    // Each note's button is described by its note: a list of buttons says what each "Choose" is for.
    for (const button of await page.locator('.ec-placeholder .ec-btn').all()) {
      const described = await page.locator(`#${String(await button.getAttribute('aria-describedby'))}`).textContent();
      expect(described).to.match(/^This content needs your consent to: (Embedded videos|Kartendienstanbieterinformationsverarbeitungseinwilligung)\.$/);
    }
    await openDialog(page);
    const box = () => page.evaluate(() => {
      const found = document as unknown as { querySelectorAll(s: string): Element[] };
      const dialogBox = [...found.querySelectorAll('.ec-dialog')][0] as Element & { scrollWidth: number; clientWidth: number; scrollLeft: number };
      return {
        sideways: dialogBox.scrollWidth - dialogBox.clientWidth,
        scrolled: dialogBox.scrollLeft,
        right: dialogBox.getBoundingClientRect().right,
        switches: [...found.querySelectorAll('.ec-switch')].map((e) => e.getBoundingClientRect().right),
      };
    });
    const before = await box();
    expect(before.sideways).to.be.at.most(0);
    expect(before.switches).to.have.length(4);
    for (const right of before.switches) expect(right).to.be.at.most(before.right);
    // Focus on the long title's switch does not slide the dialog sideways.
    await page.locator('#ec-switch-maps').focus();
    expect((await box()).scrolled).to.equal(0);
    expect(await axeViolations(page)).to.deep.equal([]);
  });
});
