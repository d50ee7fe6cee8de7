import assert from 'node:assert/strict';
import { createConsent } from '../create-consent';
import { ConsentError } from '../errors';
import { DAY_MS, ManualClock, memoryLogger, openConsent, requirement, SUITE_SECRET, type Define } from './harness';

const rejectsWith = (code: string) => (error: unknown) => error instanceof ConsentError && error.code === code;

/** Versions, expiry, lawful bases and restarts, through the public API over one store. */
export function versionBehaviour(define: Define): void {
  define('a version bump turns old grants outdated; denied stays denied', async (tracker) => {
    const v1 = await openConsent(tracker, [requirement('terms')]);
    await v1.record('ann', { terms: 'granted' });
    await v1.record('ben', { terms: 'denied' });
    await v1.close();
    const v2 = await openConsent(tracker, [requirement('terms', { version: 2, title: 'New terms' })]);
    const ann = (await v2.states('ann')).terms;
    assert.equal(ann?.state, 'outdated');
    assert.equal(ann?.allowed, false);
    assert.equal(ann?.version, 1);
    assert.deepEqual(await v2.pending('ann'), ['terms']);
    assert.equal((await v2.states('ben')).terms?.state, 'denied');
    assert.deepEqual(await v2.pending('ben'), []);
    const regranted = await v2.record('ann', { terms: 'granted' });
    assert.equal(regranted.states.terms?.state, 'granted');
    assert.equal(regranted.states.terms?.version, 2);
    await v2.close();
  });

  define('a grant expires at exactly expiresAt (now >= expiresAt)', async (tracker) => {
    const clock = new ManualClock();
    const consent = await openConsent(tracker, [requirement('news', { expiresAfterDays: 30 })], { now: clock.now, cache: false });
    const granted = await consent.record('cleo', { news: 'granted' });
    const expiresAt = clock.ms + 30 * DAY_MS;
    assert.equal(granted.states.news?.expiresAt, new Date(expiresAt).toISOString());
    clock.ms = expiresAt - 1;
    assert.equal(await consent.isAllowed('cleo', 'news'), true);
    clock.ms = expiresAt;
    const info = (await consent.states('cleo')).news;
    assert.equal(info?.state, 'expired');
    assert.equal(info?.allowed, false);
    assert.deepEqual(await consent.pending('cleo'), ['news']);
    await consent.close();
  });

  define('legitimate interests are allowed until objected to; other bases always', async (tracker) => {
    const bases = ['contract', 'legal_obligation', 'vital_interests', 'public_task'] as const;
    const defs = [
      requirement('fraud', { lawfulBasis: 'legitimate_interests' }),
      ...bases.map((lawfulBasis) => requirement(lawfulBasis.replace('_', '-'), { lawfulBasis })),
    ];
    const consent = await openConsent(tracker, defs);
    const ids = defs.map((d) => d.id);
    assert.ok(Object.values(await consent.states('dora')).every((s) => s.state === 'unset' && s.allowed));
    assert.deepEqual(await consent.pending('dora'), [], 'only consent-based requirements are asked');
    const denied = await consent.record('dora', Object.fromEntries(ids.map((id) => [id, 'denied' as const])));
    assert.equal(denied.states.fraud?.allowed, false, 'an objection (Art. 21) stops legitimate interests');
    for (const id of ids.slice(1)) assert.equal(denied.states[id]?.allowed, true, `${id} stays allowed`);
    assert.deepEqual((await consent.history('dora')).events.map((e) => e.action), ids.map(() => 'deny'));
    await consent.close();
  });

  define('a requirement registered later is pending for everyone', async (tracker) => {
    const first = await openConsent(tracker, [requirement('a')]);
    await first.record('eve', { a: 'granted' });
    await first.close();
    const later = await openConsent(tracker, [requirement('a'), requirement('b')]);
    assert.deepEqual(await later.pending('eve'), ['b']);
    assert.deepEqual(await later.pending('fred'), ['a', 'b']);
    await later.close();
  });

  define('decisions for ids no longer registered survive and stay in history', async (tracker) => {
    const both = await openConsent(tracker, [requirement('a'), requirement('gone')]);
    await both.record('gus', { a: 'granted', gone: 'granted' });
    await both.close();
    const fewer = await openConsent(tracker, [requirement('a')]);
    assert.deepEqual(Object.keys(await fewer.states('gus')), ['a']);
    assert.deepEqual((await fewer.history('gus', { requirement: 'gone' })).events.map((e) => e.action), ['grant']);
    await fewer.record('gus', { a: 'denied' });
    await fewer.close();
    const again = await openConsent(tracker, [requirement('a'), requirement('gone')]);
    assert.equal((await again.states('gus')).gone?.state, 'granted');
    assert.equal((await again.states('gus')).a?.state, 'denied');
    await again.close();
  });

  define('ready() updates an unanswered text, refuses text_changed once answered, and downgrades', async (tracker) => {
    const first = await openConsent(tracker, [requirement('a', { title: 'First' })]);
    await first.close();
    const reworded = await openConsent(tracker, [requirement('a', { title: 'Second' })]);
    await reworded.record('hal', { a: 'granted' });
    await reworded.close();
    const third = createConsent({ tracker, secret: SUITE_SECRET, logger: memoryLogger() });
    third.register(requirement('a', { title: 'Third' }));
    await assert.rejects(third.ready(), rejectsWith('text_changed'));
    await assert.rejects(third.ready(), rejectsWith('text_changed'), 'ready() returns the same promise');
    const bumped = await openConsent(tracker, [requirement('a', { version: 2, title: 'Third' })]);
    await bumped.close();
    await assert.rejects(openConsent(tracker, [requirement('a', { title: 'Second' })]), rejectsWith('version_downgrade'));
  });

  define('ready() updates the unanswered text of a version registered beside a scheduled one', async (tracker) => {
    const later = new Date(Date.now() + 30 * DAY_MS).toISOString();
    const both = (title: string) => [requirement('a', { title }), requirement('a', { version: 2, title: 'Next', effectiveFrom: later })];
    await (await openConsent(tracker, both('Typo'))).close();
    const fixed = await openConsent(tracker, both('Fixed'));
    assert.deepEqual((await tracker.requirementVersions(['a'])).map((v) => v.title), ['Fixed', 'Next']);
    await fixed.record('ida', { a: 'granted' });
    await fixed.close();
    await assert.rejects(openConsent(tracker, both('Again')), rejectsWith('text_changed'));
  });

  define('without a secret, instances sharing a store derive the same pseudonyms', async (tracker) => {
    const loggers = [memoryLogger(), memoryLogger()];
    const [one, two] = loggers.map((logger) => {
      const consent = createConsent({ tracker, logger, cache: false });
      consent.register(requirement('a'));
      return consent;
    }) as [ReturnType<typeof createConsent>, ReturnType<typeof createConsent>];
    await Promise.all([one.ready(), two.ready()]);
    await one.record('ivy', { a: 'granted' });
    assert.equal((await two.states('ivy')).a?.state, 'granted');
    for (const logger of loggers) assert.match(logger.warnings.join('\n'), /secret/);
    await Promise.all([one.close(), two.close()]);
  });
}
