import type { Change } from '../state/plan';
import type { RecordResult } from '../types';

/** Request context the HTTP layer adds to a write. */
export interface WriteContext {
  gpc?: boolean;
  ip?: string | null;
  userAgent?: string | null;
  /** Status of an unknown id in the decisions (404 in a path, 422 in a body). */
  unknownStatus?: number;
  /** The router's mount path of the request that writes (`req.baseUrl`): its confirmation links start with it. */
  mountPath?: string;
}

/** A confirmation token issued by a double opt-in grant: returned once, stored only hashed. */
export interface IssuedToken {
  requirement: string;
  version: number;
  token: string;
  expiresAt: number;
}

/** A change as committed: with the stored id of its event and the batch time. */
export type CommittedChange = Change & { eventId: string; at: number };

/** The full outcome of a write, for the HTTP layer and change events. */
export interface WriteOutcome extends RecordResult {
  changes: CommittedChange[];
  tokens: IssuedToken[];
}
