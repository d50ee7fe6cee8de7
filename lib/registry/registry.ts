import { ConsentConfigError, ConsentError } from '../errors';
import type { ConsentExtension, Requirement, RequirementDefinition } from '../types';
import { normalizeRequirement } from './validate';

/** The host application's name as a registrant. */
export const HOST_REGISTRANT = 'app';

/**
 * The requirement registry: filled at startup, sealed by `ready()`, read on every request.
 * Keeps registration order, which is the order of every listing.
 */
export class Registry {
  private readonly byId = new Map<string, { requirement: Requirement; registrant: string }>();
  private sealed = false;
  private frozen: readonly Requirement[] | null = null;

  /** Registers one or several definitions on behalf of `registrant`, all or none. */
  register(defs: RequirementDefinition | RequirementDefinition[], registrant = HOST_REGISTRANT): void {
    if (this.sealed) {
      throw new ConsentConfigError(
        'registry_sealed',
        `cannot register requirements (by ${registrant}) after ready(): register them at startup`,
      );
    }
    const list = Array.isArray(defs) ? defs : [defs];
    const batch = new Map<string, Requirement>();
    for (const def of list) {
      const requirement = normalizeRequirement(def);
      const existing = this.byId.get(requirement.id);
      const other = existing ? existing.registrant : batch.has(requirement.id) ? registrant : null;
      if (other !== null) {
        throw new ConsentConfigError(
          'duplicate_requirement',
          `requirement "${requirement.id}" is registered by both ${other} and ${registrant}`,
          { extensions: { id: requirement.id, registrants: [other, registrant] } },
        );
      }
      batch.set(requirement.id, requirement);
    }
    for (const requirement of batch.values()) {
      this.byId.set(requirement.id, { requirement, registrant });
    }
  }

  /** Registers an extension's requirements under its name. */
  use(extension: ConsentExtension): void {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
    if (extension === null || typeof extension !== 'object') {
      throw new ConsentConfigError('invalid_argument', 'use() takes { name, requirements }');
    }
    const { name, requirements } = extension;
    if (typeof name !== 'string' || name.length === 0 || name === HOST_REGISTRANT) {
      throw new ConsentConfigError(
        'invalid_argument',
        `an extension needs a non-empty name other than "${HOST_REGISTRANT}"`,
      );
    }
    if (!Array.isArray(requirements)) {
      throw new ConsentConfigError('invalid_argument', `extension ${name}: requirements must be an array`);
    }
    this.register(requirements, name);
  }

  seal(): void {
    this.sealed = true;
  }

  get isSealed(): boolean {
    return this.sealed;
  }

  get(id: string): Requirement | undefined {
    return this.byId.get(id)?.requirement;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The requirement, or `unknown_requirement`. */
  require(id: string, status = 404): Requirement {
    const requirement = this.get(id);
    if (!requirement) {
      throw new ConsentError('unknown_requirement', `no requirement "${id}" is registered`, {
        status,
        extensions: { ids: [id] },
      });
    }
    return requirement;
  }

  /** Every requirement in registration order. */
  list(): Requirement[] {
    return [...this.byId.values()].map((entry) => entry.requirement);
  }

  /** The same list, read-only and computed once after sealing: for per-request loops. */
  ordered(): readonly Requirement[] {
    if (!this.sealed) return this.list();
    this.frozen ??= Object.freeze(this.list());
    return this.frozen;
  }

  registrantOf(id: string): string | undefined {
    return this.byId.get(id)?.registrant;
  }
}
