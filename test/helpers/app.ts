import { createRequire } from 'node:module';
import express from 'express';
import type { Consent } from '../../lib/index';

/** The `express` export of either major version. */
export type ExpressModule = typeof express;

const require = createRequire(import.meta.url);

/**
 * The Express used to build test apps: `express` normally, the `express4` alias when
 * `CONSENT_EXPRESS_MAJOR=4`. (CI also reruns the files that depend on Express with Express 4 installed as `express`.)
 */
export function expressModule(): ExpressModule {
  return process.env.CONSENT_EXPRESS_MAJOR === '4' ? express4() : express;
}

/** Express 4, installed under the npm alias `express4`. */
export function express4(): ExpressModule {
  return require('express4') as ExpressModule;
}

export { BACKENDS, headerSubject, memoryLogger, REQUIREMENTS, TEST_SECRET, testConsent, type TestDatabase } from './consent-setup';

/** An app with the router mounted at `/consent`, built with `lib` (the env's Express by default). */
export function routerApp(consent: Consent, lib: ExpressModule = expressModule()): express.Express {
  const app = lib();
  app.use('/consent', consent.router());
  return app;
}
