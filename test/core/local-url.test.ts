import fc from 'fast-check';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { isLocalPath } from '../../lib/index';
import { localTarget } from '../../lib/local-url';
import { chromiumPath, describeBrowser } from '../helpers/databases';

/** Paths browsers resolve to another host, or to `//host` once their dot segments are resolved. */
const OFF_SITE = [
  '//evil.example', '/\\evil.example', '/\\/evil.example', '\\/evil.example', '/\t/evil.example', '/\n/evil.example',
  '/\r/evil.example', '/\r\n/evil.example', '/ /evil.example', '/\u0000/evil.example', '/\u007f/evil.example',
  '/\u0085/evil.example', '/\u00a0/evil.example', '/\u3000/evil.example', '/\ufeff/evil.example',
  '/..//evil.example', '/.//evil.example', '/%2e%2e//evil.example', '/a/%2E%2E/..//evil.example',
  ' /evil', 'https://evil.example/', 'evil.example', '', 'javascript:alert(1)',
];

const LOCAL = ['/', '/preferences', '/preferences?next=%2Fbooks%2F1', '/privacy#analytics', '/a/../b', '/%2F%2Fevil.example', '/a//b', '/?x=//evil.example'];

describe('isLocalPath()', () => {
  it('refuses what browsers rewrite into another origin', () => {
    for (const path of OFF_SITE) expect(isLocalPath(path), JSON.stringify(path)).to.equal(false);
    for (const value of [null, undefined, 42, ['/'], { toString: () => '/' }]) expect(isLocalPath(value)).to.equal(false);
  });

  it('accepts paths that stay on the origin, with their query and fragment', () => {
    for (const path of LOCAL) expect(isLocalPath(path), path).to.equal(true);
  });
});

describe('localTarget()', () => {
  it('keeps an origin-form target and drops the origin of an absolute-form one', () => {
    expect(localTarget('/page?x=1')).to.equal('/page?x=1');
    expect(localTarget('http://evil.example/page?x=1')).to.equal('/page?x=1');
    expect(localTarget('https://evil.example:8443/a/b?c=%2F#f')).to.equal('/a/b?c=%2F');
  });

  it('answers / when what is left could still leave the origin', () => {
    for (const target of ['http://evil.example//other.example/x', '/\\evil.example', 'http://[broken/x']) {
      expect(localTarget(target), target).to.equal('/');
    }
  });
});

// Pieces browsers treat specially; random paths built from them are checked against Chromium.
const PIECES = ['/', '\\', '.', '..', '%2e', '%2E%2e', '%2F', '\t', '\n', '\r', ' ', '\u0000', '\u001f', '\u007f', '\u0085', '\u00a0', '\u2028', '\ufeff', 'evil.example', 'a', '?', '#', ':', '@', '%09', 'http:'];
const candidates = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((p) => `/${p.join('')}`);

describeBrowser('isLocalPath() against Chromium', () => {
  let browser: Browser;
  let page: Page;

  before(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath() as string, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
  after(() => browser?.close());

  /** How Chromium's URL parser (the one behind every href and Location) resolves each value on a page. */
  const resolve = (values: string[]): Promise<Array<{ origin: string; pathname: string }>> =>
    page.evaluate((hrefs) => hrefs.map((href) => {
      const url = new URL(href, 'https://victim.example/dir/page');
      return { origin: url.origin, pathname: url.pathname };
    }), values);

  it('the refused paths of the issue really leave the origin in Chromium (or start with //)', async () => {
    const paths = OFF_SITE.filter((p) => p.startsWith('/') && !p.startsWith('//'));
    const resolved = await resolve(paths);
    const escaping = paths.filter((_, i) => resolved[i]!.origin !== 'https://victim.example' || resolved[i]!.pathname.startsWith('//'));
    expect(escaping).to.include.members(['/\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r/evil.example', '/..//evil.example']);
  });

  it('every path it accepts stays on the origin in Chromium, without a // prefix', async () => {
    const sample = [...LOCAL, ...fc.sample(candidates, { numRuns: 3000, seed: 20261201 })];
    const accepted = sample.filter((p) => isLocalPath(p));
    expect(accepted.length).to.be.greaterThan(100);
    const resolved = await resolve(accepted);
    accepted.forEach((path, i) => {
      expect(resolved[i]!.origin, JSON.stringify(path)).to.equal('https://victim.example');
      expect(resolved[i]!.pathname.startsWith('//'), JSON.stringify(path)).to.equal(false);
    });
  });
});
