import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent, type ConsentLogger } from '../../lib/index';
import { errorPage } from './error-page';
import { installPartnerOffers } from './extensions/partner-offers';
import { adminAccess } from './admin';
import { html, trusted } from './html';
import { DevMailbox, installMailbox } from './mailbox';
import { page } from './layout';
import { staticPages } from './pages/static-pages';
import { appRequirements } from './requirements';
import { accountRoutes } from './routes/account';
import { insightsRoutes } from './routes/insights';
import { preferenceRoutes } from './routes/preferences';
import { staffRoutes } from './routes/staff';
import { sessions } from './session';
import { SessionStore } from './session-store';
import { Users } from './users';

/** Options of the example app. */
export interface ExampleOptions {
  /** The SQLite file holding both the accounts and the consent tables. */
  databaseFile: string;
  /** The consent secret (≥ 32 bytes); without it the library generates and stores one. */
  secret?: string;
  /** Signs the session cookies; random per process when absent (sessions end on restart). */
  sessionSecret?: Buffer;
  /** How long a session lasts from sign-in (or a visitor's first page), in seconds. @default 604800 (7 days) */
  sessionMaxAgeSeconds?: number;
  /**
   * Express's `trust proxy` setting, for a TLS-terminating proxy in front: the session cookie
   * is `Secure` when the request (as the proxy reports it) came over HTTPS. @default false
   */
  trustProxy?: boolean | number | string;
  /** The admin console's password (user `admin`); random when absent, see `ExampleApp.adminPassword`. */
  adminPassword?: string;
  /**
   * The example's public address (`http://127.0.0.1:3000`): the confirmation links in its
   * emails start with it. Without it they are paths under `/consent`, known to the library only
   * once its router has handled a request.
   */
  publicUrl?: string;
  /** The clock of sessions and consent (tests). @default () => new Date() */
  now?: () => Date;
  logger?: ConsentLogger;
}

/** A ready example app and what it owns. */
export interface ExampleApp {
  app: Express;
  consent: Consent;
  /** The admin console's password (user `admin`). */
  adminPassword: string;
  /** The confirmation emails the example would have sent. */
  mailbox: DevMailbox;
  close(): Promise<void>;
}

function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
  });
  // Every page is someone's (answers, history, confirmation links, a form's token): kept by no
  // cache, and not shown again by the Back button after signing out. Static files may be.
  if (!req.path.startsWith('/static/')) res.set('Cache-Control', 'no-store');
  next();
}

/** Builds the example: accounts, sessions, consent (SQLite file), pages and the JSON API. */
export async function createExampleApp(options: ExampleOptions): Promise<ExampleApp> {
  if (options.databaseFile !== ':memory:') mkdirSync(dirname(options.databaseFile), { recursive: true });
  const knex: Knex = knexFactory({ client: 'sqlite3', connection: { filename: options.databaseFile }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
  const adminPassword = options.adminPassword ?? randomBytes(12).toString('base64url');
  const admin = adminAccess(adminPassword);
  // Visitors: people who have not signed in answer in the banner of /consent/client.js; link()
  // carries their answers into the account at sign-up and sign-in.
  const consent = createConsent({
    knex,
    secret: options.secret,
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a request the session middleware has not seen has no session
    subject: (req) => req.session?.userId,
    visitors: {},
    logger: options.logger,
    admin: { authorize: admin.authorize },
    // The library's pages (email confirmation, console) in the example's own look and navigation.
    pages: {
      layout: (content, info) => page(info.req, info.title, trusted(content), { head: trusted(info.head), lang: info.lang }),
      settings: '/preferences',
    },
    ...(options.publicUrl === undefined ? {} : { confirm: { baseUrl: `${options.publicUrl.replace(/\/+$/, '')}/consent` } }),
    ...(options.now ? { now: options.now } : {}),
  });
  consent.register(appRequirements);
  const users = new Users(knex);
  const mailbox = new DevMailbox();

  const app = express();
  app.disable('x-powered-by');
  if (options.trustProxy !== undefined) app.set('trust proxy', options.trustProxy);
  const sessionStore = new SessionStore(knex);
  const session = sessions(options.sessionSecret ?? randomBytes(32), sessionStore, { maxAgeSeconds: options.sessionMaxAgeSeconds, now: options.now });
  app.use(securityHeaders);
  app.use('/static', express.static(join(dirname(fileURLToPath(import.meta.url)), 'public'), { index: false }));
  app.use(session.middleware);
  app.use('/consent/admin', admin.challenge);
  // The JSON API parses its own bodies: mount it before any body parser.
  app.use('/consent', consent.router());
  installPartnerOffers(app, consent);
  insightsRoutes(app, consent);
  staticPages(app);
  accountRoutes(app, consent, users, session);
  preferenceRoutes(app, consent);
  installMailbox(app, consent, users, mailbox);
  staffRoutes(app, users, admin.challenge);
  app.use((req, res) => {
    res.status(404).send(page(req, 'Not found', html`<h1>Not found</h1><p>There is no page at this address. <a href="/">Go home</a>.</p>`));
  });
  app.use(errorPage);

  await users.init();
  await sessionStore.init();
  await consent.ready();
  return {
    app,
    consent,
    adminPassword,
    mailbox,
    async close() {
      await consent.close();
      await knex.destroy();
    },
  };
}
