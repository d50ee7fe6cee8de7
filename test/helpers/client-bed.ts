import type { Express } from 'express';
import type { BrowserContext, BrowserContextOptions } from 'playwright-core';
import { createConsent, MemoryTracker, type Consent, type RequirementDefinition } from '../../lib/index';
import { launchChromium } from '../examples/browser-helpers';
import { expressModule, memoryLogger, TEST_SECRET } from './app';
import { listen } from './client-pages';

/** What the browser client's tests start from (`clientBed`). */
export interface ClientBed {
  consent: Consent;
  /** A fresh browser profile whose relative addresses lead to the server; closed with the bed. */
  context(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** Closes the profiles, the browser, the server and the instance. */
  close(): Promise<void>;
}

/**
 * An instance for visitors (in memory) with `requirements` and its router under `/consent`, the
 * host's own pages added by `routes`, a server on a free port, and Chromium.
 */
export async function clientBed(requirements: RequirementDefinition[], routes: (app: Express) => void): Promise<ClientBed> {
  const consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger(), visitors: {}, subject: () => undefined });
  consent.register(requirements);
  await consent.ready();
  const app: Express = expressModule()();
  app.use('/consent', consent.router());
  routes(app);
  const server = await listen(app);
  const browser = await launchChromium();
  const contexts: BrowserContext[] = [];
  return {
    consent,
    async context(options = {}) {
      const context = await browser.newContext({ baseURL: `http://127.0.0.1:${String(server.port)}`, ...options });
      contexts.push(context);
      return context;
    },
    async close() {
      for (const context of contexts) await context.close();
      await browser.close();
      await server.close();
      await consent.close();
    },
  };
}
