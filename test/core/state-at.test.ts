import { expect } from 'chai';
import { createConsent, MemoryTracker, type Consent } from '../../lib/index';

const SECRET = 'state-at-test-secret-0123456789abcdef0123';
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
const quiet = { warn() {}, error() {} };

describe('stateAt()', () => {
  let clock: number;
  let tracker: MemoryTracker;

  const open = async (version = 1): Promise<Consent> => {
    const consent = createConsent({ tracker, secret: SECRET, now: () => new Date(clock), logger: quiet, confirm: { ttlMs: DAY } });
    consent.register([
      { id: 'a', title: `A v${String(version)}`, description: 'A', version, expiresAfterDays: 10 },
      { id: 'd', title: 'D', description: 'D', doubleOptIn: true },
    ]);
    await consent.ready();
    return consent;
  };

  beforeEach(() => {
    clock = T0;
    tracker = new MemoryTracker();
  });

  it('replays grants, withdrawals, expiry and version bumps to any instant', async () => {
    const v1 = await open();
    clock = T0 + DAY;
    await v1.record('ann', { a: 'granted' });
    clock = T0 + 2 * DAY;
    await v1.record('ann', { a: 'denied' });
    clock = T0 + 3 * DAY;
    await v1.record('ann', { a: 'granted' });
    clock = T0 + 20 * DAY;
    const v2 = await open(2);
    const at = (ms: number) => v2.stateAt('ann', 'a', ms);
    expect(await at(T0)).to.deep.equal({ id: 'a', state: 'unset', allowed: false, version: null, decidedAt: null, expiresAt: null });
    expect(await at(T0 + DAY)).to.deep.include({ state: 'granted', allowed: true, version: 1, decidedAt: new Date(T0 + DAY).toISOString() });
    expect((await v2.stateAt('ann', 'a', new Date(T0 + 1.5 * DAY))).expiresAt).to.equal(new Date(T0 + 11 * DAY).toISOString());
    expect(await v2.stateAt('ann', 'a', new Date(T0 + 2.5 * DAY).toISOString())).to.deep.include({ state: 'denied', allowed: false });
    expect(await at(T0 + 13 * DAY)).to.deep.include({ state: 'expired', allowed: false });
    expect(await at(T0 + 4 * DAY)).to.deep.include({ state: 'granted' });
    clock = T0 + 21 * DAY;
    await v2.record('ann', { a: 'granted' });
    clock = T0 + 22 * DAY;
    expect(await at(T0 + 20.5 * DAY)).to.deep.include({ state: 'outdated' }, 'version 2 existed by then');
    expect(await at(T0 + 19 * DAY)).to.deep.include({ state: 'expired' }, 'before version 2, the v1 grant had run out');
    expect(await at(T0 + 21 * DAY)).to.deep.include({ state: 'granted', version: 2 });
    expect(await v2.stateAt('ann', 'a', T0 + 22 * DAY)).to.deep.equal((await v2.states('ann')).a);
  });

  it('shows a double opt-in request as pending until its token lapses, then the state before it', async () => {
    const consent = await open();
    clock = T0 + DAY;
    await consent.record('ann', { d: 'granted' });
    expect(await consent.stateAt('ann', 'd', T0 + DAY + 1000)).to.deep.include({ state: 'pending', expiresAt: new Date(T0 + 2 * DAY).toISOString() });
    expect(await consent.stateAt('ann', 'd', T0 + 2 * DAY)).to.deep.include({ state: 'unset' });
  });

  it('keeps the expiry and token lifetime a grant and a request were given, after the options change', async () => {
    const openWith = async (expiresAfterDays: number, ttlMs: number): Promise<Consent> => {
      const consent = createConsent({ tracker, secret: SECRET, now: () => new Date(clock), logger: quiet, confirm: { ttlMs } });
      consent.register([
        { id: 'a', title: 'A v1', description: 'A', expiresAfterDays },
        { id: 'd', title: 'D', description: 'D', doubleOptIn: true },
      ]);
      await consent.ready();
      return consent;
    };
    const before = await openWith(365, 2 * DAY);
    await before.record('ann', { a: 'granted', d: 'granted' });
    await before.close();
    // A year's grant and a two-day link, read by a process that now gives one day and one hour.
    const after = await openWith(1, 3_600_000);
    clock = T0 + 2 * DAY - 1;
    expect(await after.stateAt('ann', 'a', clock)).to.deep.equal((await after.states('ann')).a);
    expect(await after.stateAt('ann', 'a', clock)).to.deep.include({ state: 'granted', expiresAt: new Date(T0 + 365 * DAY).toISOString() });
    expect(await after.stateAt('ann', 'd', T0 + 2 * 3_600_000)).to.deep.include({ state: 'pending', expiresAt: new Date(T0 + 2 * DAY).toISOString() });
    expect(await after.stateAt('ann', 'd', clock)).to.deep.equal((await after.states('ann')).d);
    expect(await after.stateAt('ann', 'd', T0 + 2 * DAY)).to.deep.include({ state: 'unset' });
    // A grant the current record no longer holds is given today's lifetime (its own was not kept).
    clock = T0 + 3 * DAY;
    await after.record('ann', { a: 'denied' });
    expect(await after.stateAt('ann', 'a', T0 + 1000)).to.deep.include({ state: 'granted', expiresAt: new Date(T0 + DAY).toISOString() });
  });

  it("holds a superseded grant to the expiry the sweep recorded for it, whatever today's lifetime", async () => {
    const openWith = async (expiresAfterDays: number): Promise<Consent> => {
      const consent = createConsent({ tracker, secret: SECRET, now: () => new Date(clock), logger: quiet });
      consent.register({ id: 'a', title: 'A v1', description: 'A', expiresAfterDays });
      await consent.ready();
      return consent;
    };
    const short = await openWith(1);
    await short.record('ann', { a: 'granted' });
    clock = T0 + 2 * DAY;
    expect((await short.sweep()).recorded).to.equal(1);
    clock = T0 + 3 * DAY;
    await short.record('ann', { a: 'granted' });
    await short.close();
    const long = await openWith(365);
    expect(await long.stateAt('ann', 'a', T0 + 2.5 * DAY)).to.deep.include({ state: 'expired', allowed: false, expiresAt: new Date(T0 + 2 * DAY).toISOString() });
    expect(await long.stateAt('ann', 'a', T0 + 3.5 * DAY)).to.deep.include({ state: 'granted', expiresAt: new Date(T0 + 4 * DAY).toISOString() });
  });

  it('forgets what came before an erasure', async () => {
    const consent = await open();
    await consent.record('ann', { a: 'granted' });
    clock = T0 + DAY;
    await consent.erase('ann');
    expect(await consent.stateAt('ann', 'a', T0 + 1)).to.deep.include({ state: 'unset' });
  });

  it('judges a decision imported from before the first stored version by that version, not a later one', async () => {
    const v1 = await open();
    await v1.import([{ subjectId: 'ann', requirement: 'a', decision: 'granted', at: new Date(T0 - 300 * DAY) }]);
    clock = T0 + 20 * DAY;
    const v2 = await open(2);
    // Version 2 was stored 20 days after T0: until then the imported grant of version 1 counted.
    expect(await v2.stateAt('ann', 'a', T0 - 295 * DAY)).to.deep.include({ state: 'granted', version: 1 });
    expect(await v2.stateAt('ann', 'a', T0 + DAY)).to.deep.include({ state: 'expired', version: 1 });
    expect(await v2.stateAt('ann', 'a', T0 + 20 * DAY)).to.deep.include({ state: 'outdated', version: 1 });
  });

  it('rejects a bad time, subject or requirement', async () => {
    const consent = await open();
    for (const time of ['yesterday', NaN, null, {}]) {
      await consent.stateAt('ann', 'a', time as never).then(
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a label for any value
        () => expect.fail(`accepted ${String(time)}`),
        (error: unknown) => expect(error).to.have.property('code', 'invalid_argument'),
      );
    }
    await consent.stateAt('ann', 'nope', T0).then(() => expect.fail(), (e: unknown) => expect(e).to.have.property('code', 'unknown_requirement'));
    await consent.stateAt('', 'a', T0).then(() => expect.fail(), (e: unknown) => expect(e).to.have.property('code', 'invalid_subject'));
  });
});
