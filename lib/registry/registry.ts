import { ConsentConfigError, ConsentError } from '../errors';
import type { ConsentExtension, Requirement, RequirementDefinition } from '../types';
import { normalizeRequirement } from './validate';
import { currentOf, scheduleOf, type Schedule } from './schedule';

/** The host application's name as a registrant. */
export const HOST_REGISTRANT = 'app';

interface Entry {
  /** Every registered version, oldest first (see `scheduleOf`). */
  versions: Requirement[];
  registrant: string;
}

/** Control characters (C0, DEL and C1: NEL breaks a line) and the line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** A character that shows: neither white space nor an invisible format character (zero-width space, joiner…). */
const VISIBLE = /[^\s\p{Cf}]/u;

/**
 * The requirement registry: filled at startup, sealed by `ready()`, read on every request.
 * Keeps registration order, which is the order of every listing. An id may have versions
 * registered ahead (`effectiveFrom`): every read answers with the version current on the
 * registry's clock.
 */
export class Registry {
  private readonly byId = new Map<string, Entry>();
  private sealed = false;
  private clock: () => number = Date.now;
  /** The current versions in registry order, and the interval of time they stay current in. */
  private frozen: { list: readonly Requirement[]; untils: readonly number[]; from: number; until: number } | null = null;

  /** The clock that decides which version is current (the engine's `now`). */
  useClock(clock: () => number): void {
    this.clock = clock;
    this.frozen = null;
  }

  /** Registers one or several definitions on behalf of `registrant`, all or none. */
  register(defs: RequirementDefinition | RequirementDefinition[], registrant = HOST_REGISTRANT): void {
    if (this.sealed) {
      throw new ConsentConfigError(
        'registry_sealed',
        `cannot register requirements (by ${registrant}) after ready(): register them at startup`,
      );
    }
    const list = Array.isArray(defs) ? defs : [defs];
    const batch = new Map<string, Requirement[]>();
    for (const def of list) {
      const requirement = normalizeRequirement(def);
      const existing = this.byId.get(requirement.id);
      if (existing) {
        throw new ConsentConfigError(
          'duplicate_requirement',
          existing.registrant === registrant
            ? `requirement "${requirement.id}" is registered twice by ${registrant}, by an earlier call (${registrant === HOST_REGISTRANT ? 'register() called twice' : 'the extension installed twice'}?)`
            : `requirement "${requirement.id}" is registered by both ${existing.registrant} and ${registrant}`,
          { extensions: { id: requirement.id, registrants: [existing.registrant, registrant] } },
        );
      }
      batch.set(requirement.id, [...(batch.get(requirement.id) ?? []), requirement]);
    }
    const scheduled = [...batch.entries()].map(([id, versions]) => [id, scheduleOf(versions, registrant)] as const);
    for (const [id, versions] of scheduled) this.byId.set(id, { versions, registrant });
    this.frozen = null;
  }

  /** Registers an extension's requirements under its name. */
  use(extension: ConsentExtension): void {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
    if (extension === null || typeof extension !== 'object') {
      throw new ConsentConfigError('invalid_argument', 'use() takes { name, requirements }');
    }
    const { name, requirements } = extension;
    // The name stands in messages about the extension's requirements: it must read as one, on one line.
    if (typeof name !== 'string' || !VISIBLE.test(name) || CONTROL.test(name) || name === HOST_REGISTRANT) {
      throw new ConsentConfigError(
        'invalid_argument',
        `an extension needs a name with visible characters and no control characters, other than "${HOST_REGISTRANT}"`,
      );
    }
    if (!Array.isArray(requirements)) {
      throw new ConsentConfigError('invalid_argument', `extension ${name}: requirements must be an array`);
    }
    this.register(requirements, name);
  }

  seal(): void {
    this.sealed = true;
    this.frozen = null;
  }

  get isSealed(): boolean {
    return this.sealed;
  }

  /** The version of `id` current now. */
  get(id: string): Requirement | undefined {
    return this.getAt(id, this.clock());
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The version of `id` current at `now`. */
  getAt(id: string, now: number): Requirement | undefined {
    const entry = this.byId.get(id);
    if (!entry) return undefined;
    return entry.versions.length === 1 ? entry.versions[0] : currentOf(entry.versions, now).current;
  }

  /**
   * The version current at `now` (the registry's clock by default), or `unknown_requirement`.
   * Readers that judge records at a time they read themselves pass it, so that the version and
   * the time agree when a version registered ahead starts in between.
   */
  require(id: string, status = 404, now = this.clock()): Requirement {
    const requirement = this.getAt(id, now);
    if (!requirement) {
      throw new ConsentError('unknown_requirement', `no requirement "${id}" is registered`, {
        status,
        extensions: { ids: [id] },
      });
    }
    return requirement;
  }

  /** Every requirement's current version, in registration order. */
  list(): Requirement[] {
    return [...this.ordered()];
  }

  /**
   * The same list (at `now`, the registry's clock by default), read-only, computed once per
   * interval in which no scheduled version starts: for per-request loops.
   */
  ordered(now = this.clock()): readonly Requirement[] {
    return this.frozenAt(now).list;
  }

  /**
   * For each requirement of `ordered()`, when its current version stops being current (Infinity:
   * no later version registered): where a grant's allowed window ends.
   */
  supersededAt(now = this.clock()): readonly number[] {
    return this.frozenAt(now).untils;
  }

  /**
   * When the first of the current versions stops being current (Infinity: none has a later
   * version registered): until then `ordered()` and `supersededAt()` answer the same.
   */
  currentUntil(now = this.clock()): number {
    return this.frozenAt(now).until;
  }

  private frozenAt(now: number): { list: readonly Requirement[]; untils: readonly number[]; from: number; until: number } {
    const frozen = this.frozen;
    if (frozen !== null && now >= frozen.from && now < frozen.until) return frozen;
    const schedule = this.schedule(now);
    const next = {
      list: Object.freeze(schedule.map((s) => s.current)),
      untils: Object.freeze(schedule.map((s) => s.until)),
      from: Math.max(-Infinity, ...schedule.map((s) => s.from)),
      until: Math.min(Infinity, ...schedule.map((s) => s.until)),
    };
    if (this.sealed) this.frozen = next;
    return next;
  }

  /** For each requirement in registration order: its current version and when that stops being current. */
  schedule(now = this.clock()): Schedule[] {
    return [...this.byId.values()].map((entry) => currentOf(entry.versions, now));
  }

  /** Every registered version of every requirement, oldest first per id, ids in registration order. */
  allVersions(): Requirement[] {
    return [...this.byId.values()].flatMap((entry) => entry.versions);
  }

  /** The versions of `id` registered to start later than now, oldest first. */
  upcoming(id: string): Requirement[] {
    const entry = this.byId.get(id);
    if (!entry) return [];
    const now = this.clock();
    return entry.versions.filter((v) => v.effectiveFrom !== null && Date.parse(v.effectiveFrom) > now && v !== currentOf(entry.versions, now).current);
  }

  registrantOf(id: string): string | undefined {
    return this.byId.get(id)?.registrant;
  }
}
