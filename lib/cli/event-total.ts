import type { AdminCapability } from '../tracker/admin-capability';

/** The number of stored events (a progress bar's total): the sum of the per-action counts. */
export async function eventTotal(tracker: Pick<AdminCapability, 'stats'>): Promise<number> {
  const { actions } = await tracker.stats(Date.now());
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a custom tracker may leave an action out
  return Object.values(actions).reduce((sum: number, n) => sum + (n ?? 0), 0);
}
