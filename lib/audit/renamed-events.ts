import type { IntegrityProblem } from './integrity';
import type { StoredEvent } from '../tracker/records';

/** An event whose content verifies under another id: the id it carries, and the one it was sealed with. */
interface Renamed {
  problem: IntegrityProblem;
  sealedAs: string;
}

/**
 * The events of one chain found under another id than the one they were sealed with, by the id
 * they carry and by the sealed one: each is `modified`, and both ends of a swap (ids exchanged,
 * or passed round) are `reordered` once both are seen.
 */
export class RenamedEvents {
  private readonly byCarried = new Map<string, Renamed>();
  private readonly bySealed = new Map<string, Renamed>();

  /** Forgets the chain's (most chains leave them empty: new maps for every chain were garbage). */
  clear(): void {
    if (this.byCarried.size > 0) this.byCarried.clear();
    if (this.bySealed.size > 0) this.bySealed.clear();
  }

  /** The id now carried by the event sealed as `id`, when it was found under another. */
  carrierOf(id: string): string | undefined {
    return this.bySealed.get(id)?.problem.eventId;
  }

  /** Notes `event`, sealed as `sealedAs`, and returns its problem (already `reordered` when it completes a swap). */
  add(event: StoredEvent, sealedAs: string): IntegrityProblem {
    const problem: IntegrityProblem = { eventId: event.id, kind: 'modified' };
    const entry = { problem, sealedAs };
    this.byCarried.set(event.id, entry);
    this.bySealed.set(sealedAs, entry);
    // This event carries the id sealed to another one, or another one carries this event's.
    const owner = this.bySealed.get(event.id);
    if (owner !== undefined && owner !== entry) problem.kind = 'reordered';
    const taker = this.byCarried.get(sealedAs);
    if (taker !== undefined && taker !== entry) taker.problem.kind = 'reordered';
    return problem;
  }
}
