import knexFactory, { type Knex } from 'knex';
import { createConsent, type Consent, type ConsentOptions, type RequirementDefinition } from '../../lib/index';
import { createPgDatabase, describePg, pgKnexConfig, sqliteKnexConfig, tempSqliteFile } from './databases';

/*
 * A consent instance on each test database, without Express: the tests that only store and read
 * import this instead of app.ts, so that CI does not run them again with Express 4 (see
 * express-dependent.mjs).
 */

/** A 32-byte secret for tests. */
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';

/** The requirements most HTTP tests use. */
export const REQUIREMENTS: RequirementDefinition[] = [
  { id: 'analytics', title: 'Usage analytics', description: 'We record which pages you open.', url: '/privacy#analytics', expiresAfterDays: 1 },
  { id: 'newsletter', title: 'Newsletter', description: 'A monthly e-mail.', doubleOptIn: true },
  { id: 'ads', title: 'Personalised ads', description: 'Ads based on what you read.', gpc: true },
  { id: 'fraud', title: 'Fraud checks', description: 'We check payments.', lawfulBasis: 'legitimate_interests', gpc: true },
  { id: 'terms', title: 'Terms of service', description: 'The contract.', lawfulBasis: 'contract', mandatory: true },
];

/**
 * The test apps' subject hook: the `x-test-user` header. A few values exercise the hook's
 * rules: `int:<n>` a number, `empty` "", `object` an object, `throw` a throwing hook.
 */
export function headerSubject(req: { get(name: string): string | undefined }): string | number | null | undefined {
  const value = req.get('x-test-user');
  if (value === 'throw') throw new Error('hook exploded with SELECT secret FROM users');
  if (value === 'object') return { id: 1 } as unknown as string;
  if (value === 'empty') return '';
  if (value?.startsWith('int:')) return Number(value.slice(4));
  return value;
}

/** A logger keeping what it was given, so tests can assert on it and stay quiet. */
export function memoryLogger(): { warn(m: string): void; error(m: string, e?: unknown): void; errors: unknown[] } {
  const errors: unknown[] = [];
  return { warn: () => undefined, error: (message, error) => void errors.push({ message, error }), errors };
}

/** A database a test can open Knex instances on, and drop. */
export interface TestDatabase {
  config: Knex.Config;
  cleanup(): Promise<void>;
}

/** The databases HTTP tests run on: a real SQLite file, and PostgreSQL when configured. */
export const BACKENDS: Array<{ name: string; describe: (title: string, fn: () => void) => void; open(): Promise<TestDatabase> }> = [
  {
    name: 'SQLite file',
    describe: (title, fn) => describe(title, fn),
    async open() {
      const file = tempSqliteFile();
      return { config: sqliteKnexConfig(file.filename), cleanup: async () => { file.cleanup(); } };
    },
  },
  {
    name: 'PostgreSQL',
    describe: describePg,
    async open() {
      const db = await createPgDatabase();
      return { config: pgKnexConfig(db.url), cleanup: () => db.drop() };
    },
  },
];

/** A ready consent instance on its own Knex over `db`, with the test requirements. */
export async function testConsent(
  db: TestDatabase,
  options: ConsentOptions = {},
  requirements: RequirementDefinition[] = REQUIREMENTS,
): Promise<{ consent: Consent; knex: Knex; close: () => Promise<void> }> {
  const knex = knexFactory(db.config);
  const consent = createConsent({
    subject: headerSubject,
    secret: TEST_SECRET,
    logger: memoryLogger(),
    ...(options.tracker ? {} : { knex }),
    ...options,
  });
  consent.register(requirements);
  await consent.ready();
  return {
    consent,
    knex,
    close: async () => {
      await consent.close();
      await knex.destroy();
    },
  };
}

/**
 * Waits until `consent` has heard `count` change notices from its store's feed (bounded). On
 * PostgreSQL a process hears its own writes back a moment after they commit, and each notice
 * drops the subject's cached state: a test that relies on a cached state waits for them first.
 */
export async function heardBack(consent: Consent, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (consent.engine.notifications < count) {
    if (Date.now() > deadline) throw new Error(`heard ${String(consent.engine.notifications)} change notices, not ${String(count)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
