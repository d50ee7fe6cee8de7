import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import knexFactory, { type Knex } from 'knex';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { createConsent, type Consent } from '../../lib/index';
import { horizontalOverflow } from '../helpers/axe';
import { chromiumPath, describeBrowser, sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

// The page's function, as the callbacks given to evaluate() use it (no DOM types here).
declare function getComputedStyle(element: unknown, pseudo?: string): { stroke: string; color: string; textAlign: string; content: string; display: string };

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const DAY = 86_400_000;
const SECRET = 'console-test-secret-0123456789ab';
const TERMS = { id: 'terms', title: 'Terms of service', description: 'The rules.', lawfulBasis: 'contract' as const };
const NEWS = { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.' };
const quiet = { warn() {}, error() {} };

describeBrowser('the admin console in Chromium', () => {
  const file = tempSqliteFile();
  let knex: Knex;
  let consent: Consent;
  let server: Server;
  let browser: Browser;
  let baseURL: string;
  const now = Date.UTC(2026, 10, 23, 12);
  const contexts: BrowserContext[] = [];
  const admin = (): Promise<BrowserContext> => open({ 'x-admin': 'yes' });

  async function open(headers: Record<string, string>): Promise<BrowserContext> {
    const context = await browser.newContext({ baseURL, extraHTTPHeaders: headers, acceptDownloads: true });
    contexts.push(context);
    return context;
  }

  before(async () => {
    mkdirSync('test-results', { recursive: true });
    knex = knexFactory(sqliteKnexConfig(file.filename));
    let clock = now - 5 * DAY;
    const first = createConsent({ knex, secret: SECRET, now: () => new Date(clock), logger: quiet });
    first.register([TERMS, NEWS]);
    await first.ready();
    await first.record('alice', { terms: 'granted', newsletter: 'granted' });
    await first.record('bob', { newsletter: 'granted' });
    clock = now - 2 * DAY;
    await first.record('alice', { newsletter: 'denied' });
    await first.close();
    // A new newsletter text: bob's grant of version 1 is outdated now.
    consent = createConsent({ knex, secret: SECRET, now: () => new Date(now), logger: quiet, admin: { authorize: (req) => req.get('x-admin') === 'yes' } });
    consent.register([TERMS, { ...NEWS, version: 2, description: 'A weekly e-mail.' }]);
    await consent.ready();
    await consent.record('carol', { newsletter: 'granted' });
    await consent.record('dave', { terms: 'granted' }, { note: 'signed at the desk' });
    const app = express();
    app.use('/consent', consent.router());
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => { resolve(s); });
    });
    const address = server.address();
    baseURL = `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}`;
    browser = await chromium.launch({ executablePath: chromiumPath() as string, headless: true, args: ARGS });
  });

  after(async () => {
    for (const context of contexts) await context.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    await browser?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    server?.closeAllConnections();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    await new Promise((resolve) => server?.close(resolve));
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    await consent?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when the before hook failed
    await knex?.destroy();
    file.cleanup();
  });

  it('answers 403 without authorization, on every console page', async () => {
    const page = await (await open({})).newPage();
    for (const path of ['/consent/admin/console/', '/consent/admin/console/subject?id=alice', '/consent/admin/console/export?format=csv']) {
      const response = await page.request.get(path);
      expect(response.status(), path).to.equal(403);
      expect((await response.json()).code).to.equal('forbidden');
    }
    const wrong = await (await open({ 'x-admin': 'no' })).newPage();
    expect((await wrong.goto('/consent/admin/console/'))?.status()).to.equal(403);
  });

  it('shows every requirement with its version history, texts and per-version counts', async () => {
    const page = await (await admin()).newPage();
    const response = await page.goto('/consent/admin/console');
    expect(new URL(page.url()).pathname).to.equal('/consent/admin/console/');
    expect(response?.status()).to.equal(200);
    expect(response?.headers()['content-security-policy']).to.include("default-src 'none'");
    expect(await page.locator('.subjects').textContent()).to.equal('4');
    const versions = await page.locator('#req-newsletter table.versions tr td:first-child').allTextContents();
    expect(versions).to.deep.equal(['2', '1']);
    await page.locator('#req-newsletter details').first().click();
    expect(await page.locator('#req-newsletter details').first().textContent()).to.contain('A weekly e-mail.');
    const counts = async (cls: string) => Object.fromEntries(await page.locator(`table[data-requirement="newsletter"] tr.${cls} td[data-state]`).evaluateAll(
      (cells) => cells.map((c) => [c.getAttribute('data-state'), Number(c.textContent)]),
    ));
    expect(await counts('v-2')).to.deep.equal({ granted: 1, denied: 0, pending: 0, unset: 0, expired: 0, outdated: 0 });
    expect(await counts('v-1')).to.deep.equal({ granted: 0, denied: 1, pending: 0, unset: 0, expired: 0, outdated: 1 });
    expect(await counts('v-none')).to.deep.equal({ granted: 0, denied: 0, pending: 0, unset: 1, expired: 0, outdated: 0 });
    expect(await counts('total')).to.deep.equal({ granted: 1, denied: 1, pending: 0, unset: 1, expired: 0, outdated: 1 });
    // Each column's header lines up as its cells do: numbers to the right, words to the left.
    const alignments = await page.locator('.ec-content table').evaluateAll((tables) => tables.flatMap((table) => {
      const heads = [...table.querySelectorAll('thead th')].map((c) => getComputedStyle(c).textAlign);
      return [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c, i) => `${heads[i] ?? ''}/${getComputedStyle(c).textAlign}`).join(' '));
    }));
    expect(alignments.join(' ')).to.include('right/right');
    for (const row of alignments) for (const pair of row.split(' ')) expect(pair.split('/')[0], row).to.equal(pair.split('/')[1]);
    await page.screenshot({ path: 'test-results/admin-console-overview.png', fullPage: true });
  });

  it('draws 30 zero-filled days of grants and withdrawals in an inline SVG', async () => {
    const page = await (await admin()).newPage();
    await page.goto('/consent/admin/console/');
    // The series differ in mark and line, not only in colour.
    expect(await page.locator('svg.chart .point.grants[stroke-linecap="round"]').count()).to.equal(30);
    expect(await page.locator('svg.chart .point.withdrawals[stroke-linecap="square"]').count()).to.equal(30);
    expect(await page.locator('svg.chart g.withdrawals polyline').getAttribute('stroke-dasharray')).to.equal('6 4');
    // Each series is drawn in its legend's colour (the page's colour scheme decides both).
    const seen: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const colours = new Set<string>();
      for (const [series, legend] of [['grants', 'ec-ok'], ['withdrawals', 'ec-bad']]) {
        const drawn = await page.locator(`svg.chart g.${String(series)} polyline`).evaluate((e) => getComputedStyle(e).stroke);
        const said = await page.locator(`.ec-legend .${String(legend)}`).evaluate((e) => getComputedStyle(e).color);
        expect(drawn, `${String(series)}, ${scheme}`).to.equal(said);
        colours.add(drawn);
      }
      expect(colours.size, scheme).to.equal(2);
      seen.push(...colours);
    }
    expect(new Set(seen).size, 'the dark scheme draws in other colours').to.equal(4);
    await page.emulateMedia({ colorScheme: 'light' });
    const day = (offset: number) => new Date(now - offset * DAY).toISOString().slice(0, 10);
    const count = (series: string, offset: number) =>
      page.locator(`svg.chart .point.${series}[data-day="${day(offset)}"]`).getAttribute('data-count');
    expect(await count('grants', 5)).to.equal('3');
    expect(await count('withdrawals', 2)).to.equal('1');
    expect(await count('grants', 0)).to.equal('2');
    expect(await count('grants', 29)).to.equal('0');
    expect(await page.locator(`svg.chart .point[data-day="${day(30)}"]`).count()).to.equal(0);
    // The same numbers as a table, for a screen reader, the keyboard and a narrow screen.
    await page.getByText('The numbers per day').click();
    const table = page.locator('details.ec-chart-table table');
    expect(await table.locator('tbody tr').count()).to.equal(30);
    const row = table.locator('tbody tr', { has: page.locator(`th:text-is("${day(5)}")`) });
    expect(await row.locator('td').allTextContents()).to.deep.equal(['3', String(await count('withdrawals', 5))]);
    expect(await table.locator('thead th').allTextContents()).to.deep.equal(['Day', 'grants', 'withdrawals']);
  });

  it('stacks its tables at 320 px with each number labelled on screen, and a screen reader hears each header once', async () => {
    const page = await (await admin()).newPage();
    await page.setViewportSize({ width: 320, height: 900 });
    await page.goto('/consent/admin/console/');
    const table = page.locator('table[data-requirement="newsletter"]');
    const cell = table.locator('tr.v-2 td[data-state="granted"]');
    expect(await cell.evaluate((c) => getComputedStyle(c, '::before').content)).to.match(/^"granted: "/);
    expect(await cell.evaluate((c) => getComputedStyle(c).display)).to.equal('block');
    // The table keeps its headers for assistive technology; the label drawn before a value is not read.
    const tree = await table.ariaSnapshot();
    expect(tree).to.include('columnheader "granted"');
    expect(tree).to.match(/row "v2 1 0 0 0 0 0"/);
    expect(tree).not.to.include('granted: ');
  });

  for (const [width, zoom] of [[320, 1], [1024, 1], [320, 2]] as const) {
    it(`labels the chart's axes in text as large as the page's at ${String(width)} px${zoom > 1 ? `, text at ${String(zoom * 100)}%` : ''}, beside the lines they name`, async () => {
      const page = await (await admin()).newPage();
      await page.setViewportSize({ width, height: 900 });
      await page.goto('/consent/admin/console/');
      // A reader's larger text (the browser's font size setting).
      if (zoom > 1) {
        await page.evaluate((percent) => {
          (globalThis as unknown as { document: { documentElement: { style: { fontSize: string } } } }).document.documentElement.style.fontSize = percent;
        }, `${String(zoom * 100)}%`);
      }
      type Box = { top: number; bottom: number; left: number; right: number };
      // No named functions in the page: the test's compiler would wrap them in a helper it lacks.
      const seen = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { getBoundingClientRect(): Box; textContent: string } | null; documentElement: { scrollWidth: number; clientWidth: number } } }).document;
        const nodes = ['.ec-y-max', '.ec-y-zero', '.ec-x-first', '.ec-x-last', '.ec-content p', 'svg.chart', 'svg.chart line.ec-axis-y'].map((s) => doc.querySelector(s));
        const sizes = nodes.map((n) => (n === null ? 0 : parseFloat((getComputedStyle(n) as unknown as { fontSize: string }).fontSize)));
        const boxes = nodes.map((n) => n?.getBoundingClientRect() ?? null);
        return {
          texts: nodes.slice(0, 4).map((n) => n?.textContent ?? null),
          sizes: sizes.slice(0, 4),
          boxes: boxes.slice(0, 4),
          page: sizes[4] as number,
          plot: boxes[5],
          // The y axis, from its top (the largest count) down to the x axis (none).
          axis: boxes[6],
          sideways: doc.documentElement.scrollWidth - doc.documentElement.clientWidth,
        };
      });
      const max = await page.locator('svg.chart .point').evaluateAll((points) => Math.max(...points.map((p) => Number(p.getAttribute('data-count')))));
      const day = (offset: number) => new Date(now - offset * DAY).toISOString().slice(0, 10);
      expect(seen.texts).to.deep.equal([String(max), '0', day(29), day(0)]);
      for (const size of seen.sizes) expect(size, 'a label as large as the page\'s small print').to.be.at.least(Math.min(14, seen.page * 0.875));
      const [top, zero, first, last] = seen.boxes as [Box, Box, Box, Box];
      const axis = seen.axis as Box;
      const plot = seen.plot as Box;
      const middle = (b: Box) => (b.top + b.bottom) / 2;
      expect(Math.abs(middle(top) - axis.top), 'the largest count beside the top of the y axis').to.be.below(2);
      expect(Math.abs(middle(zero) - axis.bottom), '0 beside the x axis').to.be.below(2);
      expect(top.right, 'the counts left of the plot').to.be.at.most(plot.left + 0.5);
      expect(first.top, 'the days under the plot').to.be.at.least(plot.bottom - 0.5);
      expect(first.right <= last.left || first.bottom <= last.top, 'the first day and the last apart').to.equal(true);
      expect(seen.sideways, 'the page does not scroll sideways').to.be.at.most(0);
      await page.locator('.ec-chart').screenshot({ path: `test-results/admin-console-chart-${String(width)}-${String(zoom * 100)}.png` });
      // The numbers per day fit as well, and a table shown as one block per row keeps its caption.
      await page.getByText('The numbers per day').click();
      expect(await horizontalOverflow(page), 'the table of the numbers per day does not widen the page').to.be.at.most(0);
      const caption = await page.locator('caption', { hasText: 'Subjects by state' }).first().boundingBox();
      expect(caption?.height ?? 0, 'the caption is shown').to.be.above(10);
      await page.locator('details.ec-chart-table').screenshot({ path: `test-results/admin-console-days-${String(width)}-${String(zoom * 100)}.png` });
    });
  }

  it('looks a subject up: states, history and a verified chain', async () => {
    const page = await (await admin()).newPage();
    await page.goto('/consent/admin/console/subject');
    await page.getByLabel('Subject id').fill('alice');
    await page.getByRole('button', { name: 'Look up' }).click();
    expect(await page.locator('table.states tr[data-requirement="newsletter"] .state').textContent()).to.equal('denied');
    expect(await page.locator('table.states tr[data-requirement="terms"] .state').textContent()).to.equal('granted');
    expect(await page.locator('table.history tr').count()).to.equal(4);
    expect(await page.locator('.verify').textContent()).to.contain('Chain verified, no problems. Events checked: 3.');
    await page.screenshot({ path: 'test-results/admin-console-subject.png', fullPage: true });
  });

  it('keeps the form, and says beside the field why, for an id the library does not take', async () => {
    const page = await (await admin()).newPage();
    for (const id of ['visitor:abc', 'a'.repeat(257)]) {
      const response = await page.goto(`/consent/admin/console/subject?id=${id}`);
      expect(response?.status(), id.slice(0, 20)).to.equal(400);
      const field = page.getByLabel('Subject id');
      expect(await field.inputValue()).to.equal(id);
      expect(await field.getAttribute('aria-invalid')).to.equal('true');
      expect(await page.locator(`#${String(await field.getAttribute('aria-describedby'))}`).textContent()).to.match(/^This is not a subject id: give the id your application knows the person by/);
      expect(await page.getByRole('alert').count()).to.equal(1);
    }
    await page.screenshot({ path: 'test-results/admin-console-bad-id.png', fullPage: true });
    await page.getByLabel('Subject id').fill('alice');
    await page.getByRole('button', { name: 'Look up' }).click();
    expect(await page.locator('table.history tr').count()).to.equal(4);
    expect(await page.getByRole('alert').count()).to.equal(0);
  });

  it('shows a failed verification for a tampered subject', async () => {
    await knex('consent_events').where({ note: 'signed at the desk' }).update({ note: 'changed afterwards' });
    const page = await (await admin()).newPage();
    await page.goto('/consent/admin/console/subject?id=dave');
    expect(await page.locator('.verify.bad').textContent()).to.contain('modified');
  });

  it('exports every event from the export buttons as CSV and NDJSON', async () => {
    const page = await (await admin()).newPage();
    await page.goto('/consent/admin/console/');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV' }).click()]);
    expect(csv.suggestedFilename()).to.equal('consent-events.csv');
    const lines = readFileSync(await csv.path(), 'utf8').split('\r\n');
    expect(lines[0]).to.equal('id,at,requirement,version,action,state,source,subject,actor,context,locale');
    expect(lines.slice(1, -1).map((l) => l.split(',').slice(2, 6).join(' '))).to.deep.equal([
      'terms 1 grant granted', 'newsletter 1 grant granted', 'newsletter 1 grant granted',
      'newsletter 1 withdraw denied', 'newsletter 2 grant granted', 'terms 1 grant granted',
    ]);
    const [ndjson] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'NDJSON' }).click()]);
    const events = readFileSync(await ndjson.path(), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.subject)).to.include(consent.engine.pseudonym('carol'));
    expect(events).to.have.length(6);
  });

  it('keeps words whole in a narrow history table: long notes and actors give up their width first', async () => {
    await consent.record('erin', { newsletter: 'granted' }, { actor: 'front-desk-staff-member-with-a-rather-long-name', note: `n${'o'.repeat(200)}te` });
    await consent.record('erin', { newsletter: 'denied' }, { context: 'the-printed-form-of-the-spring-campaign-2026' });
    const page = await (await admin()).newPage();
    await page.setViewportSize({ width: 720, height: 900 });
    await page.goto('/consent/admin/console/subject?id=erin');
    // One rectangle per line of a cell's text: a word split across lines gives two.
    const lines = await page.locator('table.history td:not(.ec-free)').evaluateAll((cells) => cells
      .filter((c) => !c.querySelector('time'))
      .map((c) => {
        const range = (globalThis as unknown as { document: { createRange(): { selectNodeContents(n: unknown): void; getClientRects(): { length: number } } } }).document.createRange();
        const text = (c.querySelector('span') ?? c).firstChild;
        range.selectNodeContents(text);
        return `${String(c.textContent)}:${String(range.getClientRects().length)}`;
      }));
    expect(lines).to.include('withdraw:1').and.include('granted:1');
    expect(lines.filter((l) => !l.endsWith(':1')), 'cells whose one word wraps').to.deep.equal([]);
    const sideways = await page.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(sideways, 'the page does not scroll sideways').to.be.at.most(0);
    await page.screenshot({ path: 'test-results/admin-console-narrow-history.png', fullPage: true });
  });
});
