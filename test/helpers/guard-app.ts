import type { Express } from 'express';
import type { Consent } from '../../lib/index';
import { expressModule, type ExpressModule } from './app';

/** An app with the router at `/consent` and guarded host routes; `calls` counts handler runs. */
export function guardApp(consent: Consent, lib: ExpressModule = expressModule()): { app: Express; calls: Record<string, number> } {
  const app = lib();
  const calls: Record<string, number> = {};
  const handler = (name: string) => (_req: unknown, res: { json(b: unknown): void }) => {
    calls[name] = (calls[name] ?? 0) + 1;
    res.json({ ok: name });
  };
  app.use('/consent', consent.router());
  app.get('/track', consent.requireConsent('analytics'), handler('track'));
  app.get('/both', consent.requireConsent(['analytics', 'ads']), handler('both'));
  app.get('/news', consent.requireConsent('newsletter'), handler('news'));
  app.get('/ads', consent.requireConsent('ads'), handler('ads'));
  app.get('/fraud', consent.requireConsent(['fraud', 'terms']), handler('fraud'));
  app.get('/page', consent.requireConsent('analytics', { redirect: '/ask' }), handler('page'));
  app.get('/page2', consent.requireConsent('analytics', { redirect: '/ask?from=page2' }), handler('page2'));
  app.get('/page3', consent.requireConsent('analytics', { redirect: '/ask#choices' }), handler('page3'));
  app.get('/page4', consent.requireConsent('analytics', { redirect: '/ask?from=page4#choices' }), handler('page4'));
  return { app, calls };
}
