import type { SubjectSnapshot, WritePlan } from '../tracker/records';

/** One `write()` call waiting for its group. */
export interface WriteRequest {
  pseudonym: string;
  plan: (snapshot: SubjectSnapshot) => { plan: WritePlan; result: unknown };
}

/** What a committed write answers. */
export interface Written {
  result: unknown;
  eventIds: string[];
}

/**
 * The plans of a group of requests (distinct pseudonyms), by pseudonym: `plan` runs a request's
 * own planner and keeps its result in `results` (a later call for the same pseudonym replaces it).
 */
export class GroupPlans {
  readonly results = new Map<string, unknown>();
  private readonly byPseudonym: Map<string, WriteRequest>;

  constructor(requests: readonly WriteRequest[]) {
    this.byPseudonym = new Map(requests.map((request) => [request.pseudonym, request]));
  }

  /** The group's pseudonyms, sorted (the order its subjects are locked and written in). */
  sorted(): string[] {
    return [...this.byPseudonym.keys()].sort();
  }

  /** Plans `pseudonym`'s write from `snapshot`; throws when its planner refuses. */
  plan(pseudonym: string, snapshot: SubjectSnapshot): WritePlan {
    const planned = (this.byPseudonym.get(pseudonym) as WriteRequest).plan(snapshot);
    this.results.set(pseudonym, planned.result);
    return planned.plan;
  }
}
