import assert from 'node:assert/strict';
import type { Define } from './harness';
import { eventAfter, planOf, pseudonymFor, storedVersion } from './fixtures';

/** The tracker's own contract: init, secret(), syncRequirement(), requirementVersions(). */
export function storeContract(define: Define): void {
  define('init() can run again on a prepared store', async (tracker) => {
    await tracker.init({ migrate: true });
    await tracker.init({ migrate: true });
    await tracker.init({ migrate: false });
  });

  define('secret() keeps the first candidate, also when callers race', async (tracker) => {
    await tracker.init({ migrate: true });
    const raced = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((c) => tracker.secret(`candidate-${c}`.repeat(4))));
    assert.equal(new Set(raced).size, 1, 'every caller must get the same secret');
    assert.ok(raced[0]?.startsWith('candidate-'));
    assert.equal(await tracker.secret('a-later-candidate'.repeat(3)), raced[0]);
  });

  define('syncRequirement() stores a version and accepts the same text again', async (tracker) => {
    await tracker.init({ migrate: true });
    assert.deepEqual(await tracker.syncRequirement(storedVersion('news', 1)), { kind: 'ok' });
    assert.deepEqual(await tracker.syncRequirement(storedVersion('news', 1)), { kind: 'ok' });
    assert.deepEqual(await tracker.requirementVersions(['news']), [storedVersion('news', 1)]);
  });

  define('syncRequirement() keeps every locale of a text and when the version starts', async (tracker) => {
    await tracker.init({ migrate: true });
    const info = { controller: { name: 'Example Ltd', contact: 'privacy@example.com' }, purposes: ['Statistics'], dataCategories: null, recipients: null, retention: '13 months', transfers: null };
    const texts = {
      defaultLocale: 'de',
      texts: {
        de: { title: 'Statistik', description: 'Wir zählen Seitenaufrufe.', url: null, ...info },
        'fr-CA': { title: 'Statistiques', description: 'Nous comptons les pages vues.', url: '/vie-privee', ...info, purposes: ['Statistiques'] },
      },
    };
    const version = { ...storedVersion('news', 2), texts, effectiveFrom: 1_800_000_000_000 };
    assert.deepEqual(await tracker.syncRequirement(version), { kind: 'ok' });
    assert.deepEqual(await tracker.requirementVersions(['news']), [version]);
  });

  define('syncRequirement() replaces the text of a version no event references', async (tracker) => {
    await tracker.init({ migrate: true });
    await tracker.syncRequirement(storedVersion('news', 1, 'First wording'));
    assert.deepEqual(await tracker.syncRequirement(storedVersion('news', 1, 'Second wording')), { kind: 'ok' });
    const [stored] = await tracker.requirementVersions(['news']);
    assert.equal(stored?.title, 'Second wording');
    assert.equal(stored?.textHash, storedVersion('news', 1, 'Second wording').textHash);
  });

  define('syncRequirement() reports text_changed once an event references the version', async (tracker) => {
    await tracker.init({ migrate: true });
    await tracker.syncRequirement(storedVersion('news', 1, 'First wording'));
    await tracker.write(pseudonymFor('p-text'), (s) => ({ plan: planOf(s, [eventAfter(s, 1, { requirement: 'news' })], []), result: null }));
    assert.deepEqual(await tracker.syncRequirement(storedVersion('news', 1, 'Second wording')), { kind: 'text_changed' });
    const [stored] = await tracker.requirementVersions(['news']);
    assert.equal(stored?.title, 'First wording', 'the answered text must stay as it was');
  });

  define('syncRequirement() reports a downgrade with the highest stored version', async (tracker) => {
    await tracker.init({ migrate: true });
    await tracker.syncRequirement(storedVersion('news', 1));
    await tracker.syncRequirement(storedVersion('news', 3));
    assert.deepEqual(await tracker.syncRequirement(storedVersion('news', 2)), { kind: 'downgrade', highest: 3 });
    assert.deepEqual(
      (await tracker.requirementVersions(['news'])).map((v) => v.version),
      [1, 3],
    );
  });

  define('syncRequirement() replaces the unanswered text of a version below a stored one the host still registers', async (tracker) => {
    await tracker.init({ migrate: true });
    await tracker.syncRequirement(storedVersion('news', 1, 'First wording'), { highestRegistered: 2 });
    await tracker.syncRequirement(storedVersion('news', 2), { highestRegistered: 2 });
    assert.deepEqual(await tracker.syncRequirement(storedVersion('news', 1, 'Second wording'), { highestRegistered: 2 }), { kind: 'ok' });
    assert.deepEqual((await tracker.requirementVersions(['news'])).map((v) => [v.version, v.title]), [[1, 'Second wording'], [2, 'Title of news v2']]);
    await tracker.write(pseudonymFor('p-below'), (s) => ({ plan: planOf(s, [eventAfter(s, 1, { requirement: 'news' })], []), result: null }));
    assert.deepEqual(await tracker.syncRequirement(storedVersion('news', 1, 'Third wording'), { highestRegistered: 2 }), { kind: 'text_changed' });
    assert.deepEqual(await tracker.syncRequirement(storedVersion('news', 1, 'Second wording'), { highestRegistered: 1 }), { kind: 'downgrade', highest: 2 });
  });

  define('requirementVersions() returns only the ids asked for, oldest version first', async (tracker) => {
    await tracker.init({ migrate: true });
    await tracker.syncRequirement(storedVersion('a', 1));
    await tracker.syncRequirement(storedVersion('b', 1));
    await tracker.syncRequirement(storedVersion('a', 2));
    const versions = await tracker.requirementVersions(['a']);
    assert.deepEqual(versions.map((v) => [v.id, v.version]), [['a', 1], ['a', 2]]);
    assert.deepEqual(await tracker.requirementVersions([]), []);
    assert.deepEqual(await tracker.requirementVersions(['missing']), []);
  });
}
