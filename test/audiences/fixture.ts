import { MemoryTracker, type Consent } from '../../lib/index';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';

export const DAY = 86_400_000;
export const START = Date.parse('2031-03-01T10:00:00.000Z');

/** The memory tracker, beside the Knex backends (the database given is never opened). */
const memoryBackend = {
  name: 'memory',
  describe: (title: string, fn: () => void) => describe(title, fn),
  open: async (): Promise<TestDatabase> => ({ config: { client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true }, cleanup: async () => undefined }),
  tracker: true,
};

/** Every store audiences are tested on: SQLite, PostgreSQL and the memory tracker. */
export const AUDIENCE_BACKENDS = [...BACKENDS, memoryBackend];
export type AudienceBackend = (typeof AUDIENCE_BACKENDS)[number];

/** What each test of a suite gets: its own store and an instance on a clock it may move. */
export interface AudienceFixture {
  db: TestDatabase;
  consent: Consent;
  clock: number;
}

/** Opens a store and an instance before each test of the calling suite, and closes them after. */
export function audienceFixture(backend: AudienceBackend): AudienceFixture {
  const fixture = { clock: START } as AudienceFixture;
  let t: Awaited<ReturnType<typeof testConsent>>;
  beforeEach(async () => {
    fixture.db = await backend.open();
    fixture.clock = START;
    const tracker = 'tracker' in backend ? { tracker: new MemoryTracker() } : {};
    t = await testConsent(fixture.db, { now: () => new Date(fixture.clock), ...tracker });
    fixture.consent = t.consent;
  });
  afterEach(async () => {
    await t.close();
    await fixture.db.cleanup();
  });
  return fixture;
}
