import type { EventIdCodec } from '../audit/event-ids';
import type { StoredEvent } from '../tracker/records';
import type { ConsentEvent, StateInfo } from '../types';
import type { ConsentCore } from './consent-core';
import { requireSubject } from './input';
import { isoTimeOrNull as iso } from '../iso-time';
import { publicEvent } from './public-event';
import { requireNewestHead, verifiedEventPages } from './subject-events';
import { ShownTexts, type ShownText } from './shown-texts';
import { trustedRecords } from './trusted';
import { liveRequest } from '../state/derive';

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
  /**
   * For every version the subject decided on, the text exactly as shown, in the locale shown
   * (every field, the Art. 13 information included), with the hash of the version's text.
   */
  texts: ShownText[];
}

/** An export read as it is sent: everything but the events at once, the events page by page. */
export interface SubjectExportParts {
  /** The document without `events` and `texts`, members in document order (`events`, then `texts`, come last). */
  head: Omit<SubjectExport, 'events' | 'texts'>;
  /** The events, oldest first, read from the store as the pages are asked for. */
  pages: AsyncGenerator<ExportedEvent[]>;
  /** The texts the subject decided on: only once every page was read. */
  texts: () => Promise<ShownText[]>;
}

/** Events per storage read of an export: bounded memory whatever the history's length. */
export const SUBJECT_EXPORT_PAGE = 500;


/** The exported form of a stored event: its public shape plus its network details. */
export function exportedEvent(event: StoredEvent, ids: EventIdCodec): ExportedEvent {
  return { ...publicEvent(event, ids), network: { ip: event.ip, userAgent: event.userAgent } };
}

async function* exportedPages(pages: AsyncGenerator<StoredEvent[]> | null, ids: EventIdCodec, shown: ShownTexts): AsyncGenerator<ExportedEvent[]> {
  if (!pages) return;
  for await (const page of pages) {
    for (const event of page) shown.add(event);
    yield page.map((event) => exportedEvent(event, ids));
  }
}

/** What an export uses of the engine. */
export type ExportDeps = Pick<ConsentCore, 'options' | 'tracker' | 'derivedKeys' | 'eventIds' | 'ready' | 'now' | 'pseudonym' | 'statesFrom' | 'pendingFrom' | 'storedVersions'>;

/**
 * Reads the subject's states and open confirmations, and fixes which events the export holds
 * (those up to the chain's head now), without reading them yet. The states come from records
 * whose head's seal checks; the events are checked as they are read, and a chain that does not
 * verify ends the pages with an error instead of their end.
 */
export async function openSubjectExport(engine: ExportDeps, subjectId: unknown): Promise<SubjectExportParts> {
  const subject = requireSubject(subjectId);
  await engine.ready();
  const pseudonym = engine.pseudonym(subject);
  const now = engine.now();
  const reader = engine.tracker;
  const key = engine.derivedKeys.chain;
  const { logger } = engine.options;
  const [chain] = await reader.heads({ pseudonym, limit: 1 });
  const snapshot = chain ? { ...chain, pseudonym: chain.pseudonym ?? '', headId: chain.id } : null;
  const records = trustedRecords(key, logger, pseudonym, snapshot);
  // The states are sent before the events: a head put back from an earlier copy is refused first.
  if (chain) await requireNewestHead(reader, logger, chain);
  const shown = new ShownTexts();
  const states = engine.statesFrom(records);
  return {
    head: {
      subject: pseudonym,
      exportedAt: new Date(now).toISOString(),
      states,
      pending: engine.pendingFrom(states),
      // The requests that can still be confirmed: live, and for the current text (so pending).
      confirmations: records
        .filter((r) => liveRequest(r, now) && states[r.requirement]?.state === 'pending')
        .map((r) => ({ requirement: r.requirement, version: r.pendingVersion, requestedAt: iso(r.pendingAt), expiresAt: iso(r.pendingExpiresAt) })),
    },
    pages: exportedPages(chain ? verifiedEventPages(reader, key, logger, chain, SUBJECT_EXPORT_PAGE) : null, engine.eventIds, shown),
    texts: async () => shown.texts(await engine.storedVersions(shown.ids())),
  };
}

/** Collects the subject's states, open confirmations and full history into one document. */
export async function exportSubject(engine: ExportDeps, subjectId: unknown): Promise<SubjectExport> {
  const { head, pages, texts } = await openSubjectExport(engine, subjectId);
  const events: ExportedEvent[] = [];
  for await (const page of pages) for (const event of page) events.push(event);
  return { ...head, events, texts: await texts() };
}
