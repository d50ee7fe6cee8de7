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
