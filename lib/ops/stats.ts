import type { Knex } from 'knex';
import { toRecord, type Row } from '../knex/rows';
import { deriveState } from '../state/derive';
import type { Requirement, State } from '../types';

/** Subjects per state of one requirement, for one decided version (null: never decided). */
export interface VersionCounts {
  version: number | null;
  counts: Record<State, number>;
}

/** Counts of one requirement: per version decided, and in total. */
export interface RequirementStats {
  id: string;
  /** The current (latest) version. */
  version: number;
  total: Record<State, number>;
  versions: VersionCounts[];
}

/** What `collectStats` returns. */
export interface ConsentStats {
  /** Subjects not erased. */
  subjects: number;
  requirements: RequirementStats[];
  /** Events per action, over the whole history. */
  actions: Record<string, number>;
}

/** States in a stable display order. */
export const STATES: readonly State[] = ['granted', 'denied', 'pending', 'unset', 'expired', 'outdated'];

const PAGE = 1000;

const zero = (): Record<State, number> => ({ granted: 0, denied: 0, pending: 0, unset: 0, expired: 0, outdated: 0 });

/**
 * Counts subjects per requirement, decided version and state (derived at `now` exactly as the
 * guard derives it), reading current records in keyset pages so memory stays flat, and events
 * per action. `onPage` reports records read (for progress).
 */
export async function collectStats(
  knex: Knex,
  prefix: string,
  requirements: Requirement[],
  now: number,
  onPage: (records: number) => void = () => {},
): Promise<ConsentStats> {
  const subjectsRow: Row | undefined = await knex(`${prefix}subjects`).whereNotNull('pseudonym').count({ n: '*' }).first();
  const subjects = Number(subjectsRow?.n ?? 0);
  const byId = new Map(requirements.map((r) => [r.id, { requirement: r, versions: new Map<number | null, Record<State, number>>(), seen: 0 }]));
  let after: [string, string] | null = null;
  for (;;) {
    const q = knex(`${prefix}states`).orderBy([{ column: 'chain' }, { column: 'requirement' }]).limit(PAGE);
    if (after) q.whereRaw('(chain, requirement) > (?, ?)', after);
    const rows: Row[] = await q;
    for (const row of rows) {
      const entry = byId.get(row.requirement as string);
      if (!entry) continue;
      const derived = deriveState(toRecord(row), entry.requirement, now);
      const version = derived.state === 'unset' ? null : derived.version;
      const counts = entry.versions.get(version) ?? zero();
      counts[derived.state] += 1;
      entry.versions.set(version, counts);
      entry.seen += 1;
    }
    onPage(rows.length);
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1] as Row;
    after = [last.chain as string, last.requirement as string];
  }
  const actionRows: Row[] = await knex(`${prefix}events`).select('action').count({ n: '*' }).groupBy('action').orderBy('action');
  return {
    subjects,
    requirements: [...byId.values()].map(({ requirement, versions, seen }) => {
      // Subjects without a record of this requirement have never decided it.
      const never = versions.get(null) ?? zero();
      never.unset += Math.max(0, subjects - seen);
      versions.set(null, never);
      const list = [...versions.entries()]
        .map(([version, counts]) => ({ version, counts }))
        .filter((v) => STATES.some((s) => v.counts[s] > 0))
        .sort((a, b) => (b.version ?? 0) - (a.version ?? 0));
      const total = zero();
      for (const v of list) for (const s of STATES) total[s] += v.counts[s];
      return { id: requirement.id, version: requirement.version, total, versions: list };
    }),
    actions: Object.fromEntries(actionRows.map((row) => [row.action as string, Number(row.n)])),
  };
}
