import assert from 'node:assert/strict';
import { planErase } from '../state/plan-erase';
import { audienceEntriesOfText, rowsOfText, snapshotsOfRows } from '../tracker/audience-rows';
import type { AudienceEntry, AudienceRowsPage } from '../tracker/audience-capability';
import type { SubjectSnapshot } from '../tracker/records';
import type { ConsentTracker } from '../tracker/tracker';
import { eventAfter, FIXTURE_KEY, grantedRecord, planOf, pseudonymFor } from './fixtures';
import type { Define } from './harness';

/** A sealed subject id as the tests write it: lowercase hex, like everything the library hands a tracker. */
const sealedFor = (label: string, chain: string): string => Buffer.from(`${label}@${chain}`, 'utf8').toString('hex');
const labelOf = (sealed: string | null): string | null => (sealed === null ? null : Buffer.from(sealed, 'hex').toString('utf8').split('@')[0] ?? null);

/** Writes one grant of `requirement` for `pseudonym`, with a sealed subject id labelled `label` (none without). */
async function grant(tracker: ConsentTracker, pseudonym: string, requirement: string, label?: string): Promise<void> {
  await tracker.write(pseudonym, (s) => {
    const plan = planOf(s, [eventAfter(s, 1, { requirement })], [grantedRecord(requirement)]);
    if (label !== undefined) plan.sealedSubject = sealedFor(label, s.chain);
    return { plan, result: null };
  });
}

const A = pseudonymFor('a');
const B = pseudonymFor('b');
const C = pseudonymFor('c');
const D = pseudonymFor('d');

/**
 * The audience capability (when implemented): subjects across the store, each with its whole
 * snapshot (as `current()` reads it) and its sealed id; a sealed id stored without an event.
 */
export function audienceContract(define: Define): void {
  define('audience() pages through linked subjects in chain order, each with its snapshot and sealed id', async (tracker) => {
    if (!tracker.audience) return;
    await tracker.init({ migrate: true });
    await grant(tracker, A, 'news', 'A');
    await grant(tracker, A, 'other');
    await grant(tracker, B, 'other', 'B');
    await grant(tracker, C, 'news');
    await grant(tracker, D, 'news', 'D');
    await tracker.erase(D, (s) => planErase(s, { now: 1_900_000_000_000, source: 'admin', actor: null, personalSalt: null }, FIXTURE_KEY));
    const first = await tracker.audience({ requirement: 'news', limit: 2 });
    const rest = await tracker.audience({ requirement: 'news', limit: 2, after: first[1]?.snapshot.chain });
    const all = [...first, ...rest];
    assert.equal(first.length, 2);
    const chains = all.map((e) => e.snapshot.chain);
    assert.deepEqual(chains, [...chains].sort(), 'in chain-key order');
    assert.equal(all.length, 3, 'every linked subject once, the erased one left out');
    for (const entry of all) {
      const current = await tracker.current(entry.snapshot.pseudonym);
      const sorted = (e: typeof entry.snapshot) => ({ ...e, records: [...e.records].sort((x, y) => x.requirement.localeCompare(y.requirement)) });
      assert.ok(current, 'each entry names a linked pseudonym');
      assert.deepEqual(sorted(entry.snapshot), sorted(current), 'the snapshot current() reads: head, link and every record');
    }
    const byLabel = new Map(all.map((e) => [labelOf(e.sealedSubject), e]));
    assert.equal(byLabel.get('A')?.sealedSubject, sealedFor('A', byLabel.get('A')?.snapshot.chain ?? ''));
    assert.equal(byLabel.get('A')?.snapshot.records.length, 2, 'records of other requirements come too');
    assert.deepEqual(byLabel.get('B')?.snapshot.records, [grantedRecord('other')], 'a subject without a record of the requirement is listed');
    assert.equal(byLabel.get(null)?.snapshot.pseudonym, C, 'a subject written without a sealed id comes with null');
    assert.deepEqual(await tracker.audience({ requirement: 'news', limit: 2, after: all[2]?.snapshot.chain }), []);
  });

  define('audienceRows() gives the pages audience() gives, as rows, saying where each ends and whether it is full', async (tracker) => {
    if (!tracker.audience || !tracker.audienceRows) return;
    await tracker.init({ migrate: true });
    await grant(tracker, A, 'news', 'A');
    await grant(tracker, A, 'other');
    // A value ending in `[`: in JSON text its closing quote follows the bracket, as a row's first value does.
    await grant(tracker, B, 'other[', 'B');
    await grant(tracker, C, 'news');
    let after: string | undefined;
    // Two pages of two, the second short, then an empty one.
    for (let read = 0; read < 3; read += 1) {
      const entries: AudienceEntry[] = await tracker.audience({ requirement: 'news', limit: 2, after });
      const page: AudienceRowsPage | null = await tracker.audienceRows({ requirement: 'news', limit: 2, after });
      if (page === null) return;
      assert.deepEqual(audienceEntriesOfText(page.rows), entries, 'the entries audience() gives, decoded from the rows');
      assert.equal(page.last?.toLowerCase() ?? null, entries.at(-1)?.snapshot.chain ?? null, 'the chain key of the last subject');
      assert.equal(page.full, entries.length === 2, 'full when it holds `limit` subjects');
      after = page.last ?? after;
    }
  });

  define('a write without a sealed id keeps the stored one', async (tracker) => {
    if (!tracker.audience) return;
    await tracker.init({ migrate: true });
    await grant(tracker, A, 'news', 'A');
    await grant(tracker, A, 'other');
    const [entry] = await tracker.audience({ requirement: 'news', limit: 10 });
    assert.equal(labelOf(entry?.sealedSubject ?? null), 'A');
  });

  define('storeSealedSubject() seals for the linked chain, and stores nothing for an unknown subject', async (tracker) => {
    if (!tracker.storeSealedSubject || !tracker.audience) return;
    await tracker.init({ migrate: true });
    await grant(tracker, A, 'news');
    assert.equal(await tracker.storeSealedSubject(A, (chain) => sealedFor('A', chain)), true);
    assert.equal(await tracker.storeSealedSubject(pseudonymFor('unknown'), (chain) => sealedFor('X', chain)), false);
    const entries = await tracker.audience({ requirement: 'news', limit: 10 });
    assert.deepEqual(entries.map((e) => e.sealedSubject), [sealedFor('A', entries[0]?.snapshot.chain ?? '')]);
    // heads() may give it too (verify() then checks it): as stored.
    const [head] = await tracker.heads({ pseudonym: A, limit: 1 });
    if (head?.sealedSubject !== undefined) assert.equal(head.sealedSubject, sealedFor('A', head.chain), 'heads() gives the stored id as stored');
  });

  define('snapshots() reads what current() reads for many subjects, in the order asked', async (tracker) => {
    if (!tracker.snapshots || !tracker.audience) return;
    await tracker.init({ migrate: true });
    await grant(tracker, A, 'news', 'A');
    await grant(tracker, A, 'other');
    await grant(tracker, B, 'other');
    await grant(tracker, D, 'news');
    await tracker.erase(D, (s) => planErase(s, { now: 1_900_000_000_000, source: 'admin', actor: null, personalSalt: null }, FIXTURE_KEY));
    const asked = [B, C, A, D, B, A];
    const read = await tracker.snapshots(asked);
    assert.equal(read.length, asked.length, 'one answer per pseudonym asked, repeats included');
    for (const [i, pseudonym] of asked.entries()) {
      const current = await tracker.current(pseudonym);
      const sorted = (s: NonNullable<typeof current>) => ({ ...s, records: [...s.records].sort((x, y) => x.requirement.localeCompare(y.requirement)) });
      assert.deepEqual(read[i] && sorted(read[i]), current && sorted(current), `the snapshot current() reads for the pseudonym at ${String(i)}`);
    }
    assert.equal(read[1], null, 'null for a pseudonym no subject has');
    assert.equal(read[3], null, 'null for an erased subject');
    assert.deepEqual(await tracker.snapshots([]), []);
  });

  define('snapshotRows() gives what snapshots() reads, as rows, with a row for every pseudonym asked', async (tracker) => {
    if (!tracker.snapshots || !tracker.audience || !tracker.snapshotRows) return;
    await tracker.init({ migrate: true });
    await grant(tracker, A, 'news', 'A');
    await grant(tracker, A, 'other[');
    await grant(tracker, B, 'other');
    await grant(tracker, D, 'news');
    await tracker.erase(D, (s) => planErase(s, { now: 1_900_000_000_000, source: 'admin', actor: null, personalSalt: null }, FIXTURE_KEY));
    const asked = [B, C, A, D, B];
    const text = await tracker.snapshotRows(asked);
    if (text === null) return;
    const byPseudonym = snapshotsOfRows(rowsOfText(text));
    const read = await tracker.snapshots(asked);
    for (const [i, pseudonym] of asked.entries()) {
      const row = byPseudonym.get(pseudonym);
      assert.ok(row, `a row for the pseudonym at ${String(i)}`);
      const sorted = (s: SubjectSnapshot) => ({ ...s, records: [...s.records].sort((x, y) => (x.requirement < y.requirement ? -1 : 1)) });
      const expected = read[i] ?? null;
      if (expected === null) assert.deepEqual({ chain: row.chain, records: row.records }, { chain: '', records: [] }, `no subject, no record, for the pseudonym at ${String(i)}`);
      else assert.deepEqual(sorted(row), sorted(expected), `the snapshot snapshots() reads for the pseudonym at ${String(i)}`);
    }
    assert.deepEqual(rowsOfText((await tracker.snapshotRows([])) ?? '[]'), []);
  });

  define('snapshots() reads a subject again after a later write, never an earlier answer', async (tracker) => {
    if (!tracker.snapshots || !tracker.audience) return;
    await tracker.init({ migrate: true });
    await grant(tracker, A, 'news', 'A');
    const [before] = await tracker.snapshots([A]);
    await tracker.write(A, (s) => ({ plan: planOf(s, [eventAfter(s, 1, { requirement: 'news', action: 'deny', state: 'denied' })], [{ ...grantedRecord('news'), decision: 'denied' }]), result: null }));
    const [after] = await tracker.snapshots([A]);
    assert.equal(after?.seq, (before?.seq ?? 0) + 1, 'the head of the newer write');
    assert.equal(after?.records.find((r) => r.requirement === 'news')?.decision, 'denied');
  });

  define('lapsedGrants() names the subject id stored with each chain, for the sweep\'s change events', async (tracker) => {
    if (!tracker.lapsedGrants || !tracker.audience) return;
    await tracker.init({ migrate: true });
    await tracker.write(A, (s) => ({ plan: { ...planOf(s, [eventAfter(s, 1, { requirement: 'news' })], [grantedRecord('news', { expiresAt: 100 })]), sealedSubject: sealedFor('A', s.chain) }, result: null }));
    const [lapsed] = await tracker.lapsedGrants({ now: 100, limit: 10 });
    assert.equal(lapsed?.pseudonym, A);
    assert.equal(labelOf(lapsed?.sealedSubject ?? null), 'A');
  });
}
