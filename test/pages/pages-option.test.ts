import { createHash } from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createConsent, html, MemoryTracker, trustedHtml, type Consent, type ConsentOptions } from '../../lib/index';
import { parseOptions } from '../../lib/options';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { express4, headerSubject, memoryLogger, TEST_SECRET, type ExpressModule } from '../helpers/app';

/** A memory store whose reads of a subject's records (a link's check among them) fail while `down` is set. */
class FlakyTracker extends MemoryTracker {
  down = false;
  override current(pseudonym: string) {
    return this.down ? Promise.reject(new Error('connection reset')) : super.current(pseudonym);
  }
}

const EXPRESS: Array<[string, ExpressModule]> = [['Express 5', express], ['Express 4', express4()]];
const DEV = { NODE_ENV: 'development' };

function refusal(pages: unknown): string {
  try {
    parseOptions({ pages } as ConsentOptions, DEV);
  } catch (error) {
    expect((error as { code: string }).code).to.equal('invalid_option');
    return (error as Error).message;
  }
  throw new Error('expected invalid_option');
}

describe('the pages option', () => {
  it('defaults to the built-in look with a link back to the site', () => {
    expect(parseOptions({}, DEV).pages).to.deep.equal({ layout: null, stylesheet: null, home: { href: '/', text: 'Back to the site' }, homeIsDefault: true, settings: null });
    expect(parseOptions({ pages: { home: false, stylesheet: 'https://cdn.example.com/site.css' } }, DEV).pages).to.include({ home: null, stylesheet: 'https://cdn.example.com/site.css' });
  });

  it('refuses unknown keys with a "did you mean", and bad values naming the option', () => {
    expect(refusal({ layuot: () => '' })).to.contain('"pages.layuot"').and.contain('did you mean "layout"');
    expect(refusal({ stylesheets: '/a.css' })).to.contain('did you mean "stylesheet"');
    expect(refusal('dark')).to.contain('option "pages" must be');
    expect(refusal({ layout: '<html>' })).to.contain('"pages.layout" must be a function');
    expect(refusal({ stylesheet: 'javascript:alert(1)' })).to.contain('"pages.stylesheet" must be a path');
    expect(refusal({ stylesheet: '//evil.example/x.css' })).to.contain('"pages.stylesheet"');
    expect(refusal({ home: { href: '/', text: '' } })).to.contain('"pages.home.text"');
    expect(refusal({ home: { href: '/\\evil.example', text: 'Home' } })).to.contain('"pages.home.href"');
    expect(refusal({ home: { href: '/', text: 'Home', label: 'x' } })).to.contain('"pages.home.label" is not a home option');
    expect(refusal({ settings: 'javascript:alert(1)' })).to.contain('"pages.settings" must be a path');
    expect(refusal({ setings: '/privacy' })).to.contain('did you mean "settings"');
    expect(() => createConsent({ pages: { layot: null } } as never)).to.throw(/did you mean "layout"/);
  });
});

for (const [label, lib] of EXPRESS) {
  describe(`the library's pages in the host's look (${label})`, () => {
    const instances: Consent[] = [];
    let token = '';

    async function app(pages?: ConsentOptions['pages'], tracker = new MemoryTracker()): Promise<express.Express> {
      const consent = createConsent({ tracker, secret: TEST_SECRET, subject: headerSubject, logger: memoryLogger(), admin: { authorize: headerAdmin }, ...(pages ? { pages } : {}) });
      instances.push(consent);
      consent.register({ id: 'news', title: 'Newsletter', description: 'Monthly <news>.', doubleOptIn: true });
      consent.on('confirmation', (payload) => void (token = payload.token));
      await consent.ready();
      await consent.record('ann', { news: 'granted' });
      const host = lib();
      host.use('/consent', consent.router());
      return host;
    }
    after(async () => { for (const consent of instances) await consent.close(); });

    it('default: a finished page with one main, the link home, and a CSP allowing only its own style', async () => {
      const page = await request(await app()).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(200);
      expect(page.text).to.include('<header class="ec-header"><p><a href="/">Back to the site</a></p></header>');
      expect(page.text.match(/<main/g)).to.have.length(1);
      const hashes = [...page.text.matchAll(/<style>([^]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1] as string).digest('base64')}'`);
      expect(hashes).to.have.length(2);
      expect((page.headers['content-security-policy'] as string).split(/;\s*/)).to.include.members(["default-src 'none'", `style-src ${hashes.join(' ')}`, "frame-ancestors 'none'"]);
    });

    it('stylesheet and home: linked after the built-in style, allowed by the CSP, home link replaced', async () => {
      const host = await app({ stylesheet: 'https://static.example.com/brand.css', home: { href: 'https://shop.example.com/', text: 'Back to <Shop>' } });
      const page = await request(host).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(200);
      expect(page.text).to.match(/<\/style>\n<link rel="stylesheet" href="https:\/\/static.example.com\/brand.css">/);
      expect(page.text).to.include('<a href="https://shop.example.com/">Back to &lt;Shop&gt;</a>');
      expect(page.headers['content-security-policy']).to.match(/style-src 'sha256-[^']+' 'sha256-[^']+' https:\/\/static\.example\.com;/);
      const none = await request(await app({ home: false })).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(200);
      expect(none.text).not.to.include('<header');
    });

    it('layout: wraps the confirmation pages and the console in the host document, with the request', async () => {
      const seen: string[] = [];
      const host = await app({
        layout(content, page) {
          seen.push(`${page.title}|${page.lang}|${String(page.req.get('x-test-user'))}`);
          return html`<!doctype html><html lang="${page.lang}"><head><title>${page.title} · Shop</title>${trustedHtml(page.head)}</head><body><nav>Shop</nav><main>${trustedHtml(content)}</main></body></html>`.value;
        },
      });
      const page = await request(host).get(`/consent/confirm/${token}`).set('Accept', 'text/html').set('x-test-user', 'ann').expect(200);
      expect(page.text).to.match(/^<!doctype html><html lang="en"><head><title>Confirm: Newsletter · Shop<\/title><style>/);
      expect(page.text).to.include('<body><nav>Shop</nav><main><div class="ec-content" lang="en"><h1>Please confirm your consent</h1>');
      expect(page.text).to.include('Monthly &lt;news&gt;.');
      expect(page.headers['content-security-policy']).to.match(/^default-src 'self'; style-src 'self' 'sha256-/);
      const console = await request(host).get('/consent/admin/console/').set(ADMIN).expect(200);
      expect(console.text).to.include('<nav>Shop</nav><main><div class="ec-content" lang="en"><nav class="ec-nav" aria-label="Consent console">');
      expect(seen).to.deep.equal(['Confirm: Newsletter|en|ann', 'Consent overview · Consent console|en|undefined']);
      // In another language, the content says so even inside a layout that does not.
      const german = await request(host).get(`/consent/confirm/${token}?lang=de`).set('Accept', 'text/html').expect(200);
      expect(german.text).to.include('<div class="ec-content" lang="de"><h1>');
    });

    it('settings: the pages that close a confirmation link to where people change their choices', async () => {
      const host = await app({ settings: '/account/privacy?tab=1&x="y"' });
      const link = '<p><a href="/account/privacy?tab=1&amp;x=&quot;y&quot;">Open your privacy settings</a></p>';
      const preview = await request(host).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(200);
      expect(preview.text).not.to.include(link);
      const done = await request(host).post(`/consent/confirm/${token}?lang=de`).set('Accept', 'text/html').type('form').send('').expect(200);
      expect(done.text).to.include('<p><a href="/account/privacy?tab=1&amp;x=&quot;y&quot;">Datenschutzeinstellungen öffnen</a></p>');
      // The link opened again: the page that says it went through links there too.
      const again = await request(host).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(404);
      expect(again.text).to.include('You have already confirmed').and.include(link);
      // Without the option, the sentence stands alone.
      const plain = await request(await app()).post(`/consent/confirm/${token}`).set('Accept', 'text/html').type('form').send('').expect(200);
      expect(plain.text).to.include('in your privacy settings.</p>').and.not.include('Open your privacy settings');
      // A link that no longer works asks the person to answer again: there, with the option.
      const unknown = `${token.slice(0, -4)}AAAA`;
      expect((await request(host).get(`/consent/confirm/${unknown}`).set('Accept', 'text/html').expect(404)).text).to.include('This link').and.include(link);
      expect((await request(await app()).get(`/consent/confirm/${unknown}`).set('Accept', 'text/html').expect(404)).text).to.include('This link').and.not.include('Open your privacy settings');
    });

    it('a store that fails while checking a link: a page that says to try again, with Retry-After', async () => {
      const tracker = new FlakyTracker();
      const host = await app({ settings: '/account/privacy' }, tracker);
      tracker.down = true;
      const page = await request(host).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(503);
      expect(page.headers['content-type']).to.match(/^text\/html/);
      expect(page.headers['retry-after']).to.equal('5');
      expect(page.text).to.include('<h1>We cannot check this link right now</h1>').and.not.include('connection reset');
      // The same link is to be opened again later: no invitation to answer anew.
      expect(page.text).to.not.include('/account/privacy');
      expect((await request(host).get(`/consent/confirm/${token}`).expect(503)).body.code).to.equal('store_unavailable');
      tracker.down = false;
      await request(host).get(`/consent/confirm/${token}`).set('Accept', 'text/html').expect(200);
    });

    it('a layout that throws is a 500 problem, never a half page', async () => {
      const host = await app({ layout() { throw new Error('template broke'); } });
      const response = await request(host).get('/consent/admin/console/').set(ADMIN).expect(500);
      expect(response.body.code).to.equal('internal_error');
    });
  });
}
