import type { ConsentEvent, StateInfo } from '../types';
import type { ConsentEngine } from './engine';
import { requireSubject } from './input';
import { timedReader } from './proof-reader';
import { publicEvent } from './public-event';
import { storeCall } from './store-call';
import { subjectEvents } from './subject-events';

/** An open double opt-in request: that it exists and until when (the token is never stored). */
export interface ExportedConfirmation {
  requirement: string;
  version: number | null;
  requestedAt: string | null;
  expiresAt: string | null;
}

/** One event with the network details stored with it (when `network` was enabled). */
export interface ExportedEvent extends ConsentEvent {
  network: { ip: string | null; userAgent: string | null };
}

/** Everything stored about a subject (Art. 15), as `consent.export()` and `GET /me/export` give it. */
export interface SubjectExport {
  /** The pseudonym the subject is stored under (the id itself is never stored). */
  subject: string;
  exportedAt: string;
  states: Record<string, StateInfo>;
  pending: string[];
  confirmations: ExportedConfirmation[];
  /** Every event of the subject's history, oldest first. */
  events: ExportedEvent[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Collects the subject's states, open confirmations and full history into one document. */
export async function exportSubject(engine: ConsentEngine, subjectId: unknown): Promise<SubjectExport> {
  const subject = requireSubject(subjectId);
  await engine.ready();
  const pseudonym = engine.pseudonym(subject);
  const now = engine.now();
  const records = await storeCall(engine.options.storeTimeoutMs, 'state read', () => engine.tracker.current(pseudonym));
  const events = await subjectEvents(timedReader(engine), pseudonym);
  const states = engine.statesFrom(records);
  return {
    subject: pseudonym,
    exportedAt: new Date(now).toISOString(),
    states,
    pending: engine.pendingFrom(states),
    confirmations: records
      .filter((r) => r.pendingToken !== null && r.pendingExpiresAt !== null && r.pendingExpiresAt > now)
      .map((r) => ({ requirement: r.requirement, version: r.pendingVersion, requestedAt: iso(r.pendingAt), expiresAt: iso(r.pendingExpiresAt) })),
    events: events.map((event) => ({ ...publicEvent(event, engine.eventIds), network: { ip: event.ip, userAgent: event.userAgent } })),
  };
}
