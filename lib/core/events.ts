import { seal, unseal } from '../audit/aead';
import type { Checkpoint } from '../audit/checkpoint';
import { ConsentError } from '../errors';
import { isoTime } from '../iso-time';
import type { ConsentLogger } from '../options';
import type { Change } from '../state/plan';
import type { OutboxEntry } from '../tracker/records';
import type { Action, Source, State } from '../types';
import { warnOnce } from './warn-once';

/** The events of `consent.on()`. */
export type ConsentEventName = 'change' | 'withdrawn' | 'confirmation' | 'checkpoint';

/** Payload of `change` and `withdrawn`: one recorded event, with the real subject id. */
export interface ChangePayload {
  subjectId: string;
  requirement: string;
  action: Action;
  state: State;
  previous: State;
  source: Source;
  eventId: string;
  /** ISO-8601 UTC. */
  at: string;
}

/** Payload of `confirmation`: a double opt-in link for the host to deliver to the subject. */
export interface ConfirmationPayload {
  subjectId: string;
  requirement: string;
  version: number;
  token: string;
  url: string;
  /** ISO-8601 UTC. */
  expiresAt: string;
}

/** The payload type of each event. */
export interface ConsentEventPayloads {
  change: ChangePayload;
  withdrawn: ChangePayload;
  confirmation: ConfirmationPayload;
  /** Every checkpoint made (`consent.checkpoint()`, `GET /admin/checkpoint`, receipts). */
  checkpoint: Checkpoint;
}

/**
 * A handler. What it returns is awaited when it is a Promise (a durable handler is retried
 * until that resolves) and otherwise ignored, so an arrow may return what it calls.
 */
export type ConsentEventHandler<E extends ConsentEventName> = (payload: ConsentEventPayloads[E]) => unknown;

/** Options of `consent.on()`. */
export interface OnOptions {
  /** Makes the handler durable: delivered at least once from the outbox, across restarts. */
  name?: string | undefined;
}

type AnyPayload = ConsentEventPayloads[ConsentEventName];
type AnyHandler = (payload: AnyPayload) => unknown;

interface Registration {
  event: ConsentEventName;
  handler: AnyHandler;
  name: string | null;
}

/** A payload before the write has given its event an id. */
export type PendingPayload = Omit<ChangePayload, 'eventId'> | ConfirmationPayload;

const EVENTS: readonly ConsentEventName[] = ['change', 'withdrawn', 'confirmation', 'checkpoint'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** Handlers of one consent instance: in-process ones, and durable ones fed by the outbox. */
export class EventHub {
  private readonly registrations: Registration[] = [];

  constructor(
    private readonly logger: ConsentLogger,
    private readonly sealed: () => boolean,
  ) {}

  on<E extends ConsentEventName>(event: E, handler: ConsentEventHandler<E>, options: OnOptions = {}): void {
    if (!EVENTS.includes(event)) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- a JavaScript caller may pass a symbol, which a template cannot print
      throw new ConsentError('invalid_argument', `unknown event "${String(event)}": use ${EVENTS.join(', ')}`);
    }
    if (typeof handler !== 'function') throw new ConsentError('invalid_argument', 'the handler must be a function');
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
    const name = options?.name ?? null;
    if (name !== null) {
      // A checkpoint is made outside any write, so no outbox entry can carry it.
      if (event === 'checkpoint') throw new ConsentError('invalid_argument', 'a "checkpoint" handler is in-process only: leave out its name');
      if (typeof name !== 'string' || !NAME.test(name)) {
        throw new ConsentError('invalid_argument', 'a handler name is 1–64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit');
      }
      // The writer decides which durable handlers an entry is owed to: they must all be known then.
      if (this.sealed()) throw new ConsentError('registry_sealed', `register the durable handler "${name}" before ready()`);
      if (this.registrations.some((r) => r.name === name && r.event === event)) {
        throw new ConsentError('invalid_argument', `a "${event}" handler named "${name}" is already registered`);
      }
    }
    this.registrations.push({ event, handler: handler as AnyHandler, name });
  }

  /**
   * Whether a handler of `event` is registered: a durable one (fed by the outbox) with
   * `durable`, else an in-process one. Writes build no payload nobody takes.
   */
  listens(event: ConsentEventName, durable: boolean): boolean {
    return this.registrations.some((r) => r.event === event && (r.name !== null) === durable);
  }

  /** Names of the durable handlers (of any event). */
  durableNames(): string[] {
    return [...new Set(this.registrations.flatMap((r) => (r.name === null ? [] : [r.name])))];
  }

  durableHandler(name: string, event: ConsentEventName): AnyHandler | null {
    return this.registrations.find((r) => r.name === name && r.event === event)?.handler ?? null;
  }

  /** Outbox entries owed to durable handlers of `event`, sealed with the outbox key. */
  entries(key: Buffer, event: Exclude<ConsentEventName, 'checkpoint'>, payload: PendingPayload, eventIndex: number | null, now: number): OutboxEntry[] {
    return this.registrations
      .filter((r) => r.event === event && r.name !== null)
      .map((r) => ({
        handler: r.name as string,
        event,
        eventIndex,
        payload: seal(key, JSON.stringify(payload), aad(r.name as string, event)).toString('base64'),
        availableAt: now,
      }));
  }

  /**
   * In-process, best-effort delivery: a throwing or rejecting handler is logged, never retried.
   * A confirmation no handler takes (in-process or durable) is reported once: nobody is sent its link.
   */
  emit(event: ConsentEventName, payload: AnyPayload): void {
    if (event === 'confirmation' && !this.registrations.some((r) => r.event === 'confirmation')) {
      warnOnce(this.logger, 'express-consent: a double opt-in request was recorded but no "confirmation" handler is registered (consent.on(\'confirmation\', …)): nobody is sent its link, and the grant stays pending');
    }
    for (const r of this.registrations) {
      if (r.event !== event || r.name !== null) continue;
      try {
        Promise.resolve(r.handler(payload)).catch((error: unknown) => { this.logger.error(`express-consent: a "${event}" handler failed`, error); });
      } catch (error) {
        this.logger.error(`express-consent: a "${event}" handler failed`, error);
      }
    }
  }
}

const aad = (handler: string, event: string) => Buffer.from(`${handler}\n${event}`, 'utf8');

/** Opens an outbox payload; null when it does not open with this key (another secret). */
export function openEntry(key: Buffer, handler: string, event: ConsentEventName, payload: string): PendingPayload | null {
  const text = unseal(key, Buffer.from(payload, 'base64'), aad(handler, event));
  return text === null ? null : (JSON.parse(text) as PendingPayload);
}

/** The `change` payload of one planned change, before its event has an id. */
export function changePayload(subjectId: string, change: Change, source: Source, at: number): Omit<ChangePayload, 'eventId'> {
  const { requirement, action, state, previous } = change;
  return { subjectId, requirement, action, state, previous, source, at: isoTime(at) };
}
