import assert from 'node:assert/strict';
import { ConsentError } from '../errors';
import { DAY_MS, ManualClock, openConsent, requirement, type Define } from './harness';

const isCode = (code: string) => (error: unknown) => error instanceof ConsentError && error.code === code;

/** Decisions through the public API: latest wins, history, pending list, actions. */
export function decisionBehaviour(define: Define): void {
  define('a never-asked requirement is unset, not allowed and pending', async (tracker) => {
    const consent = await openConsent(tracker, [requirement('analytics')]);
    assert.deepEqual(await consent.states('alice'), {
      analytics: { id: 'analytics', state: 'unset', allowed: false, version: null, decidedAt: null, expiresAt: null },
    });
    assert.deepEqual(await consent.pending('alice'), ['analytics']);
    assert.equal(await consent.isAllowed('alice', 'analytics'), false);
    await consent.close();
  });

  define('the latest decision wins while history keeps every entry', async (tracker) => {
    const clock = new ManualClock();
    const consent = await openConsent(tracker, [requirement('analytics')], { now: clock.now });
    await consent.record('alice', { analytics: 'granted' });
    clock.advance(1000);
    await consent.record('alice', { analytics: 'denied' });
    clock.advance(1000);
    const result = await consent.record('alice', { analytics: 'granted' });
    assert.equal(result.states.analytics?.state, 'granted');
    assert.equal(result.states.analytics?.decidedAt, new Date(clock.ms).toISOString());
    assert.equal(await consent.isAllowed('alice', 'analytics'), true);
    const { events, nextCursor } = await consent.history('alice');
    assert.deepEqual(events.map((e) => [e.action, e.state]), [['grant', 'granted'], ['withdraw', 'denied'], ['grant', 'granted']]);
    assert.equal(nextCursor, null);
    assert.equal(new Set(events.map((e) => e.id)).size, 3);
    await consent.close();
  });

  define('a denial is a decision: recorded as deny, not allowed, off the pending list', async (tracker) => {
    const consent = await openConsent(tracker, [requirement('analytics'), requirement('news')]);
    const result = await consent.record('bob', { analytics: 'denied' });
    assert.equal(result.states.analytics?.state, 'denied');
    assert.equal(result.states.analytics?.allowed, false);
    assert.deepEqual(result.pending, ['news']);
    assert.deepEqual(await consent.pending('bob'), ['news']);
    const { events } = await consent.history('bob');
    assert.deepEqual(events.map((e) => e.action), ['deny']);
    await consent.record('bob', { analytics: 'denied' });
    assert.deepEqual((await consent.history('bob')).events.map((e) => e.action), ['deny', 'deny']);
    await consent.close();
  });

  define('a denial after a grant, an expiry or a version bump is a withdraw', async (tracker) => {
    const clock = new ManualClock();
    const defs = [requirement('a'), requirement('b', { expiresAfterDays: 1 })];
    const consent = await openConsent(tracker, defs, { now: clock.now });
    await consent.record('carol', { a: 'granted', b: 'granted' });
    await consent.record('heidi', { a: 'granted' });
    clock.advance(DAY_MS);
    assert.equal((await consent.states('carol')).b?.state, 'expired');
    await consent.record('carol', { a: 'denied', b: 'denied' });
    const { events } = await consent.history('carol', { limit: 2 });
    assert.deepEqual(events.map((e) => [e.requirement, e.action]), [['b', 'withdraw'], ['a', 'withdraw']]);
    await consent.close();
    const bumped = await openConsent(tracker, [requirement('a', { version: 2 })], { now: clock.now });
    await bumped.record('dave', { a: 'denied' });
    assert.equal((await bumped.states('heidi')).a?.state, 'outdated');
    await bumped.record('heidi', { a: 'denied' });
    assert.deepEqual((await bumped.history('heidi')).events.map((e) => e.action), ['withdraw', 'grant']);
    assert.deepEqual((await bumped.history('dave')).events.map((e) => e.action), ['deny']);
    await openConsent(tracker, [requirement('a')], { now: clock.now }).then(
      () => assert.fail('an older process must not start again after a bump'),
      (error: unknown) => { assert.ok(isCode('version_downgrade')(error)); },
    );
    await bumped.record('erin', { a: 'granted' });
    await bumped.record('erin', { a: 'denied' });
    assert.deepEqual((await bumped.history('erin')).events.map((e) => e.action), ['withdraw', 'grant']);
    await bumped.close();
  });

  define('a batch is atomic: one unknown id records nothing', async (tracker) => {
    const consent = await openConsent(tracker, [requirement('analytics'), requirement('news')]);
    await assert.rejects(
      consent.record('frank', { analytics: 'granted', nope: 'granted', news: 'denied' }),
      (error: unknown) => isCode('unknown_requirement')(error) &&
        JSON.stringify((error as ConsentError).extensions.ids) === '["nope"]',
    );
    assert.deepEqual((await consent.history('frank')).events, []);
    assert.equal((await consent.states('frank')).analytics?.state, 'unset');
    await consent.close();
  });

  define('a batch shares one timestamp and returns states and pending', async (tracker) => {
    const clock = new ManualClock();
    const consent = await openConsent(tracker, [requirement('a'), requirement('b'), requirement('c')], { now: clock.now });
    const result = await consent.record('gina', { a: 'granted', b: 'denied' }, { note: 'signup form', data: { step: 2 } });
    assert.deepEqual(Object.keys(result.states), ['a', 'b', 'c']);
    assert.deepEqual(result.pending, ['c']);
    const { events } = await consent.history('gina');
    assert.equal(events.length, 2);
    assert.ok(events.every((e) => e.at === new Date(clock.ms).toISOString()));
    assert.ok(events.every((e) => e.note === 'signup form' && e.source === 'app'));
    assert.deepEqual(events[0]?.data, { step: 2 });
    await consent.close();
  });

  define('history pages through a cursor, newest first, optionally for one requirement', async (tracker) => {
    const consent = await openConsent(tracker, [requirement('a'), requirement('b')]);
    for (let i = 0; i < 3; i += 1) await consent.record(42, { a: 'granted', b: 'denied' });
    const first = await consent.history('42', { limit: 4 });
    assert.equal(first.events.length, 4);
    assert.ok(first.nextCursor);
    const second = await consent.history(42, { limit: 4, cursor: first.nextCursor });
    assert.equal(second.events.length, 2);
    assert.equal(second.nextCursor, null);
    const ids = [...first.events, ...second.events].map((e) => e.id);
    assert.equal(new Set(ids).size, 6);
    const onlyA = await consent.history(42, { requirement: 'a' });
    assert.deepEqual(onlyA.events.map((e) => e.requirement), ['a', 'a', 'a']);
    await consent.close();
  });
}
