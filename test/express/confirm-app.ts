import express from 'express';
import knexFactory, { type Knex } from 'knex';
import type { ErrorRequestHandler } from 'express';
import { createConsent, type ChangePayload, type ConfirmationPayload, type Consent } from '../../lib/index';
import { confirmPostHandler, confirmPreviewHandler } from '../../lib/express/confirm-routes';
import { sqliteKnexConfig } from '../helpers/databases';

export const SECRET = 'c'.repeat(32);
export const START = Date.parse('2026-03-01T12:00:00.000Z');
export const TTL = 60 * 60 * 1000;

// Express 4 under its alias; typed as Express 5, whose API these tests share with it.
const EXPRESS4 = 'express4';
const express4 = ((await import(EXPRESS4)) as { default: typeof express }).default;

export const EXPRESS: Record<string, typeof express> = { 'Express 5': express, 'Express 4': express4 };
export type ExpressLib = typeof express;

/** A consent instance on an SQLite file with a settable clock, recording every event it emits. */
export interface Lab {
  consent: Consent;
  knex: Knex;
  clock: { ms: number };
  links: ConfirmationPayload[];
  changes: ChangePayload[];
  /** What the library said through `logger.warn`. */
  warnings: string[];
  close(): Promise<void>;
}

export async function openLab(filename: string, options: { version?: number; baseUrl?: string; clock?: { ms: number } } = {}): Promise<Lab> {
  const knex = knexFactory(sqliteKnexConfig(filename));
  const clock = options.clock ?? { ms: START };
  const warnings: string[] = [];
  const consent = createConsent({
    knex,
    logger: { warn: (message) => void warnings.push(message), error: (message, error) => { console.error(message, error); } },
    secret: SECRET,
    cache: false,
    sweep: false,
    now: () => new Date(clock.ms),
    confirm: { ttlMs: TTL, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) },
  });
  consent.register([
    { id: 'newsletter', version: options.version ?? 1, title: 'Newsletter', description: 'A monthly email <b>about</b> us.', url: 'https://example.com/news', doubleOptIn: true },
    { id: 'analytics', title: 'Analytics', description: 'Usage statistics.' },
  ]);
  const links: ConfirmationPayload[] = [];
  const changes: ChangePayload[] = [];
  consent.on('confirmation', (payload) => void links.push(payload));
  consent.on('change', (payload) => void changes.push(payload));
  await consent.ready();
  return {
    consent,
    knex,
    clock,
    links,
    changes,
    warnings,
    async close() {
      await consent.close();
      await knex.destroy();
    },
  };
}

/** Renders errors the way the router will: status and code only matter here. */
const problems: ErrorRequestHandler = (error, _req, res, _next) => {
  const e = error as { status?: number; code?: string };
  res.status(e.status ?? 500).type('application/problem+json').send(JSON.stringify({ code: e.code ?? 'internal_error', status: e.status ?? 500 }));
};

/** The confirmation handlers mounted at /consent, urlencoded parsing only for the POST. */
export function confirmApp(lib: ExpressLib, consent: Consent): express.Express {
  const app = lib();
  const router = lib.Router();
  router.get('/confirm/:token', confirmPreviewHandler(consent.engine));
  router.post('/confirm/:token', lib.urlencoded({ extended: false, limit: '16kb' }), confirmPostHandler(consent.engine));
  app.use('/consent', router);
  app.use(problems);
  return app;
}
