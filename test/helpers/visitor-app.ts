import type { Express } from 'express';
import type { Response } from 'supertest';
import type { CollectedConsent, Consent } from '../../lib/index';
import { ADMIN, headerAdmin } from './admin';
import { expressModule } from './app';

export { ADMIN, headerAdmin };

/**
 * An app for visitor tests: the router at `/consent`, a guarded `/track` (analytics), a
 * legitimate-interest `/fraud`, a form `/newsletter` committed for whoever sends it, and
 * `/sign-in`, which links the request's visitor to the `x-sign-in` user.
 */
export function visitorApp(consent: Consent, configure?: (app: Express) => void): Express {
  const lib = expressModule();
  const app = lib();
  configure?.(app);
  app.use('/consent', consent.router());
  app.get('/track', consent.requireConsent('analytics'), (_req, res) => { res.json({ tracked: true }); });
  app.get('/fraud', consent.requireConsent('fraud'), (_req, res) => { res.json({ checked: true }); });
  app.post('/newsletter', lib.urlencoded({ extended: true }), consent.collect(['analytics', 'ads']), (_req, res, next) => {
    (res.locals.consent as CollectedConsent).commit().then((result) => { res.status(201).json(result); }, next);
  });
  app.post('/sign-in', (req, res, next) => {
    consent.link(req, req.get('x-sign-in') as string).then((result) => { res.json(result); }, next);
  });
  return app;
}

/** The `Set-Cookie` headers of a response. */
export function setCookies(res: Response): string[] {
  const header = res.headers['set-cookie'] as string[] | string | undefined;
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

/** `name=value` of the first Set-Cookie (for a Cookie header). */
export function cookiePair(res: Response): string {
  const [first] = setCookies(res);
  if (first === undefined) throw new Error('no Set-Cookie in the response');
  return first.split(';')[0] as string;
}

/** The visitor id a cookie pair carries (what `linkVisitor` takes). */
export function visitorIdOf(pair: string): string {
  return `visitor:${(pair.split('=')[1] as string).split('.')[0] as string}`;
}
