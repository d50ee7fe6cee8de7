import type { Express, NextFunction, Request, Response } from 'express';
import type { CollectedConsent, Consent } from '../../lib/index';
import { expressModule, type ExpressModule } from './app';

/** A sign-up app: `/signup` (extended urlencoded), `/flat` (a flat parser), `/json`, `/custom` (onMissing). */
export function signupApp(consent: Consent, lib: ExpressModule = expressModule()): Express {
  const app = lib();
  const signup = async (_req: Request, res: Response, next: NextFunction) => {
    try {
      const collected = res.locals.consent as CollectedConsent;
      const result = await collected.commit(`user-${String(Object.keys(collected.decisions).length)}-${String(Date.now())}`, { note: 'sign-up' });
      res.status(201).json({ decisions: collected.decisions, result });
    } catch (error) {
      next(error);
    }
  };
  app.post('/signup', lib.urlencoded({ extended: true }), consent.collect(['terms', 'analytics', 'ads']), signup);
  app.post('/flat', lib.urlencoded({ extended: false }), consent.collect(['terms', 'analytics']), signup);
  app.post('/json', lib.json(), consent.collect(['terms', 'analytics']), signup);
  app.post('/custom', lib.urlencoded({ extended: true }),
    consent.collect(['terms'], { onMissing: (_req, res, _next, missing) => void res.status(400).send(`missing ${missing.map((m) => m.id).join()}`) }),
    signup);
  app.use('/consent', consent.router());
  return app;
}
