import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createExampleApp, type ExampleApp } from '../../examples/app/create-app';
import { chromiumPath, tempSqliteFile } from '../helpers/databases';

/** The example on a real SQLite file and a free port, and a Chromium to drive it. */
export interface Running {
  baseUrl: string;
  example: ExampleApp;
  /** A fresh browser profile (own cookies); `javaScript: false` for the no-script path. */
  browser(options?: { javaScript?: boolean }): Promise<BrowserContext>;
  stop(): Promise<void>;
}

/** The Chromium flags of the browser tests. */
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Starts the example (see `Running`); `browser()` is not needed by suites that launch their own Chromium. */
export async function startExample(): Promise<Running> {
  const db = tempSqliteFile();
  const quiet = { warn: () => {}, error: (m: string, e?: unknown) => { console.error(m, e); } };
  const example = await createExampleApp({ databaseFile: db.filename, secret: 's'.repeat(32), logger: quiet });
  const server: Server = await new Promise((resolve) => {
    const s = example.app.listen(0, '127.0.0.1', () => { resolve(s); });
  });
  const address = server.address();
  const baseUrl = `http://127.0.0.1:${String(typeof address === 'object' && address ? address.port : 0)}`;
  const contexts: Array<{ context: BrowserContext; dir: string }> = [];
  return {
    baseUrl,
    example,
    async browser({ javaScript = true } = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'express-consent-chromium-'));
      const context = await chromium.launchPersistentContext(dir, {
        executablePath: chromiumPath() as string,
        headless: true,
        args: ARGS,
        javaScriptEnabled: javaScript,
        baseURL: baseUrl,
      });
      contexts.push({ context, dir });
      return context;
    },
    async stop() {
      for (const { context, dir } of contexts) {
        await context.close();
        rmSync(dir, { recursive: true, force: true });
      }
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await example.close();
      db.cleanup();
    },
  };
}

/** One headless Chromium for a whole test file; each person gets a context of it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath() as string, headless: true, args: ARGS });
}

/** The sign-up boxes, by the statement each makes. */
export const TERMS_LABEL = /^I accept the terms of service/;
export const NEWSLETTER_LABEL = /^Send me the monthly newsletter/;

/** Fills in and sends the sign-up form; `terms: false` also lifts the browser's own check. */
export async function signUp(page: Page, email: string, { terms = true, newsletter = false } = {}): Promise<number> {
  await page.goto('/sign-up');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel(/^Password/).fill('correct horse battery');
  if (terms) await page.getByLabel(TERMS_LABEL).check();
  if (newsletter) await page.getByLabel(NEWSLETTER_LABEL).check();
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Create account' }).click()]);
  await page.waitForLoadState();
  return response.status();
}

/** The decision section of one requirement on the preference page. */
export function section(page: Page, title: string) {
  return page.getByRole('region', { name: title, exact: true });
}

/** The rows of the history table, as their cells' text. */
export async function historyRows(page: Page): Promise<string[][]> {
  return page.locator('#history tbody tr').evaluateAll((rows) =>
    rows.map((row) => Array.from(row.querySelectorAll('td'), (td: { textContent: string | null }) => (td.textContent ?? '').trim())),
  );
}
