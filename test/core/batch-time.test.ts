import { expect } from 'chai';
import knexFactory, { type Knex } from 'knex';
import { createConsent, type ChangePayload, type Consent, type ConsentEvent } from '../../lib/index';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const SECRET = 'batch-time-secret-0123456789abcdef0123';
const T0 = Date.UTC(2026, 5, 1, 12);
const quiet = { warn() {}, error() {} };

describe('the time of a decision', () => {
  let file: ReturnType<typeof tempSqliteFile>;
  let knex: Knex;
  let consent: Consent;
  let clock: number;
  const payloads: ChangePayload[] = [];

  beforeEach(async () => {
    file = tempSqliteFile();
    knex = knexFactory(sqliteKnexConfig(file.filename));
    clock = T0;
    payloads.length = 0;
    consent = createConsent({ knex, secret: SECRET, now: () => new Date(clock), logger: quiet, sweep: false });
    consent.register([
      { id: 'news', title: 'Newsletter', description: 'A monthly letter.' },
      { id: 'trial', title: 'Trial', description: 'A day of offers.', expiresAfterDays: 1 },
    ]);
    consent.on('change', (p) => void payloads.push(p));
    await consent.ready();
  });

  afterEach(async () => {
    await consent.close();
    await knex.destroy();
    file.remove();
  });

  const oldestFirst = async (subject: string): Promise<ConsentEvent[]> => (await consent.history(subject, { limit: 200 })).events.reverse();

  it('is never before the subject\'s latest answer: a clock read behind it dates the withdrawal with the grant', async () => {
    await consent.record('ann', { news: 'granted' });
    // Another process's clock a little behind, or this one read before the subject's lock was taken.
    clock = T0 - 50;
    const { states } = await consent.record('ann', { news: 'denied' });
    const events = await oldestFirst('ann');
    expect(events.map((e) => [e.action, e.at])).to.deep.equal([
      ['grant', new Date(T0).toISOString()],
      ['withdraw', new Date(T0).toISOString()],
    ]);
    expect(states.news).to.include({ state: 'denied', decidedAt: new Date(T0).toISOString() });
    expect(payloads.map((p) => [p.action, p.at])).to.deep.equal([['grant', new Date(T0).toISOString()], ['withdraw', new Date(T0).toISOString()]]);
    expect(await consent.stateAt('ann', 'news', T0)).to.include({ state: 'denied' });
    // A clock that moves on dates the next answer by itself; other subjects keep their own time.
    clock = T0 + 1_000;
    await consent.record('ann', { news: 'granted' });
    clock = T0 - 5_000;
    await consent.record('bob', { news: 'granted' });
    expect((await oldestFirst('ann')).map((e) => e.at).at(-1)).to.equal(new Date(T0 + 1_000).toISOString());
    expect((await oldestFirst('bob')).map((e) => e.at)).to.deep.equal([new Date(T0 - 5_000).toISOString()]);
    expect((await consent.verify()).ok).to.equal(true);
  });

  it('does not follow an answer dated further ahead than a lock is waited for (a wrong clock)', async () => {
    await consent.record('dan', { news: 'granted' });
    clock = T0 - 20_000;
    await consent.record('dan', { news: 'denied' });
    expect((await oldestFirst('dan')).map((e) => e.at)).to.deep.equal([new Date(T0).toISOString(), new Date(T0 - 20_000).toISOString()]);
  });

  it('dates a sweep\'s expiry no earlier than an answer written after its clock was read', async () => {
    await consent.record('eve', { trial: 'granted' });
    const lapsed = T0 + 86_400_000;
    clock = lapsed + 5_000;
    await consent.record('eve', { news: 'granted' });
    // The sweep read its clock before that answer (a long pass, or another process a little behind).
    clock = lapsed + 1_000;
    await consent.sweep();
    const events = await oldestFirst('eve');
    expect(events.map((e) => [e.requirement, e.action, e.at])).to.deep.equal([
      ['trial', 'grant', new Date(T0).toISOString()],
      ['news', 'grant', new Date(lapsed + 5_000).toISOString()],
      ['trial', 'expire', new Date(lapsed + 5_000).toISOString()],
    ]);
    expect((await consent.verify()).ok).to.equal(true);
  });

  it('keeps a subject\'s history in time order under concurrent writes, whatever the clock reads', async () => {
    // A clock that goes back at every reading: each write reads it before it waits for the
    // subject's lock behind the ones before it.
    let readings = 0;
    const backwards = createConsent({ knex, secret: SECRET, now: () => new Date(T0 - (readings += 1) * 10), logger: quiet, sweep: false });
    backwards.register([
      { id: 'news', title: 'Newsletter', description: 'A monthly letter.' },
      { id: 'trial', title: 'Trial', description: 'A day of offers.', expiresAfterDays: 1 },
    ]);
    try {
      await Promise.all(Array.from({ length: 40 }, (_, i) => backwards.record('cat', { news: i % 2 === 0 ? 'granted' : 'denied' })));
      const times = (await backwards.history('cat', { limit: 200 })).events.reverse().map((e) => Date.parse(e.at));
      expect(times).to.have.length(40);
      for (let i = 1; i < times.length; i += 1) expect(times[i], `event ${String(i + 1)}`).to.be.at.least(times[i - 1] as number);
    } finally {
      await backwards.close();
    }
  });
});
