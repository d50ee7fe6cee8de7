import fc from 'fast-check';
import { expect } from 'chai';
import { normalizeRequirement } from '../../lib/registry/validate';
import { allowedAt, allowedWindow, allowedWindows } from '../../lib/state/allowed-window';
import { isAllowedNow } from '../../lib/state/derive';
import { emptyRecord, type CurrentRecord } from '../../lib/tracker/records';
import type { LawfulBasis, Requirement } from '../../lib/types';

const BASES: LawfulBasis[] = ['consent', 'legitimate_interests', 'contract', 'legal_obligation', 'vital_interests', 'public_task'];
const T0 = Date.UTC(2026, 0, 1);
const time = fc.integer({ min: T0 - 1_000, max: T0 + 1_000 });

const requirement = (id: string, lawfulBasis: LawfulBasis, version: number): Requirement =>
  normalizeRequirement({ id, title: id, description: id, version, lawfulBasis });

const record = (id: string) =>
  fc.record({
    decision: fc.constantFrom(null, 'granted' as const, 'denied' as const),
    version: fc.option(fc.integer({ min: 1, max: 4 })),
    expiresAt: fc.option(time),
    pendingExpiresAt: fc.option(time),
    // A request for an older text than the current one no longer counts (it cannot be confirmed).
    pendingVersion: fc.integer({ min: 1, max: 5 }),
    gpcOptIn: fc.boolean(),
  }).map((fields): CurrentRecord => ({
    ...emptyRecord(id),
    ...fields,
    decidedAt: fields.decision === null ? null : T0 - 2_000,
    pendingVersion: fields.pendingExpiresAt === null ? null : fields.pendingVersion,
    pendingAt: fields.pendingExpiresAt === null ? null : T0 - 2_000,
  }));

/** Times where a state may change, one millisecond either side, and some in between. */
const probes = (r: CurrentRecord | undefined, extra: number[]): number[] => {
  const edges = [r?.expiresAt, r?.pendingExpiresAt].filter((t): t is number => typeof t === 'number');
  return [...edges.flatMap((t) => [t - 1, t, t + 1]), ...extra, T0 - 5_000, T0 + 5_000];
};

describe('allowedWindow', () => {
  it('allows exactly when isAllowedNow does (no GPC signal), for every basis and record', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BASES),
        fc.integer({ min: 1, max: 4 }),
        fc.option(record('r'), { nil: undefined }),
        fc.array(time, { maxLength: 5 }),
        (basis, version, stored, extra) => {
          const req = requirement('r', basis, version);
          const windows = allowedWindow(stored, req);
          for (const t of probes(stored, extra)) {
            const inWindow = t >= windows[0] && t < windows[1];
            expect(inWindow, `t=${String(t - T0)}, window ${String(windows.map((w) => w - T0))}`).to.equal(isAllowedNow(stored, req, t, false));
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('ends when the next registered version starts, under every basis: the next one may have another basis or text, so the state is derived again', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BASES),
        fc.integer({ min: 1, max: 4 }),
        fc.option(record('r'), { nil: undefined }),
        time,
        fc.array(time, { maxLength: 5 }),
        (basis, version, stored, start, extra) => {
          fc.pre((stored?.version ?? 0) <= version);
          const current = requirement('r', basis, version);
          const windows = allowedWindow(stored, current, start);
          for (const t of [...probes(stored, extra), start - 1, start, start + 1]) {
            const inWindow = t >= windows[0] && t < windows[1];
            expect(inWindow, `t=${String(t - T0)}, start ${String(start - T0)}`).to.equal(t < start && isAllowedNow(stored, current, t, false));
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('puts every requirement in registry order and checks only the listed ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...BASES), fc.integer({ min: 1, max: 4 }), fc.option(record('x'), { nil: undefined })), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        time,
        (specs, picks, now) => {
          const ordered = specs.map(([basis, version], i) => requirement(`r${String(i)}`, basis, version));
          // Stored records in another order than the registry's, some requirements without one.
          const records = specs
            .map(([, , stored], i) => (stored ? { ...stored, requirement: `r${String(i)}` } : undefined))
            .filter((r): r is CurrentRecord => r !== undefined)
            .reverse();
          const windows = allowedWindows(records, ordered);
          expect(windows).to.have.length(2 * ordered.length);
          const indexes = picks.map((p) => p % ordered.length);
          const expected = indexes.every((i) => isAllowedNow(records.find((r) => r.requirement === `r${String(i)}`), ordered[i] as Requirement, now, false));
          expect(allowedAt(windows, indexes, now)).to.equal(expected);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('is empty for a consent requirement never granted, and open for a contract', () => {
    expect(allowedAt(allowedWindows([], [requirement('a', 'consent', 1)]), [0], T0)).to.equal(false);
    expect(allowedWindow(undefined, requirement('c', 'contract', 1))).to.deep.equal([-Infinity, Infinity]);
  });
});
