import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, RequestHandler } from 'express';
import { expressModule } from './app';

/** Starts an app on 127.0.0.1 and a free port. */
export async function listen(app: Express): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => { resolve(s); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A host name Chromium maps to 127.0.0.1 (`--host-resolver-rules`): another site than 127.0.0.1. */
export const THIRD_PARTY_HOST = 'thirdparty.test';

/**
 * The third party: a script that marks the page, a frame, and a page that posts to the first
 * party from another site. It remembers every request it receives.
 */
export function thirdPartyApp(firstParty: () => string): { app: Express; seen: string[] } {
  const lib = expressModule();
  const app = lib();
  const seen: string[] = [];
  app.use((req, _res, next) => { seen.push(req.path); next(); });
  app.get('/tracker.js', (_req, res) => {
    res.type('text/javascript').send("document.documentElement.setAttribute('data-tracker', 'loaded');");
  });
  app.get('/frame', (_req, res) => { res.type('html').send('<!doctype html><title>Video</title><p>Third-party video</p>'); });
  app.get('/attack', (_req, res) => {
    res.type('html').send(`<!doctype html><html lang="en"><title>Attack</title>
<form id="f" method="post" enctype="text/plain" action="${firstParty()}/consent/me"><input name='{"decisions":{"analytics":"granted"},"x":"' value='"}'></form>
<script>document.getElementById('f').submit();</script></html>`);
  });
  return { app, seen };
}

/** The first party's pages: the client, gated third-party elements, and a strict-CSP page. */
export function firstPartyPages(thirdParty: () => string): RequestHandler {
  const page = (body: string, client = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title><script src="/consent/client.js"${client} defer></script></head>
<body><main><h1>Shop</h1><p>Welcome to the shop.</p>${body}
<p><button type="button" data-consent-open>Privacy choices</button></p></main></body></html>`;
  return (req, res, next) => {
    if (req.path === '/') {
      const third = thirdParty();
      res.set('Content-Security-Policy', `default-src 'self'; script-src 'self' ${third}; frame-src ${third}; style-src 'self'`);
      res.type('html').send(page(`<script type="text/plain" data-consent="analytics" src="${third}/tracker.js"></script>
<iframe data-consent="analytics" data-src="${third}/frame" title="A third-party video" width="300" height="150"></iframe>`));
      return;
    }
    if (req.path === '/strict') {
      res.set('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; frame-src 'self'");
      res.type('html').send(page('<script type="text/plain" data-consent="analytics" src="/gated.js"></script>'));
      return;
    }
    if (req.path === '/only') {
      // The banner and dialog ask only about the requirements listed.
      res.type('html').send(page('<iframe data-consent="analytics" data-src="/gated.js" title="A gated frame" width="300" height="150"></iframe>', ' data-requirements="ads, fraud"'));
      return;
    }
    if (req.path === '/gated.js') {
      res.type('text/javascript').send("document.documentElement.setAttribute('data-gated', 'ran');");
      return;
    }
    next();
  };
}
