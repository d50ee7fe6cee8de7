import { InstanceClosedError } from '../core/call-gate';
import type { ConsentEngine } from '../core/engine';
import { ConsentConfigError, ConsentError } from '../errors';

function unknownIds(ids: string[]): ConsentConfigError {
  return new ConsentConfigError(
    'unknown_requirement',
    `no requirement is registered as ${ids.map((id) => `"${id}"`).join(', ')}: register it before ready(), or fix the id`,
    { extensions: { ids } },
  );
}

/**
 * Checks the requirement ids named by guards and forms. Before `ready()` the registry may
 * still grow, so ids are remembered and `ready()` rejects listing every one still unknown (and
 * so does every method that waits for it); once the registry is sealed an unknown id throws at
 * once.
 */
export class ReadyGate {
  private readonly awaited = new Set<string>();
  private promise: Promise<void> | null = null;
  private served = false;

  constructor(private readonly engine: ConsentEngine) {
    // Every id a guard or form named before the registry was sealed must be registered by then:
    // otherwise `ready()` fails, and with it every method of the instance.
    engine.onSealed(() => {
      const unknown = [...this.awaited].filter((id) => !engine.registry.has(id));
      if (unknown.length > 0) throw unknownIds(unknown);
    });
  }

  /**
   * Validates `ids` (a string or a non-empty array of strings) for `where`.
   * @throws ConsentError `invalid_argument`; ConsentConfigError `unknown_requirement` after `ready()`.
   */
  ids(input: unknown, where: string): string[] {
    const list = Array.isArray(input) ? [...(input as unknown[])] : [input];
    if (list.length === 0 || list.some((id) => typeof id !== 'string' || id === '')) {
      throw new ConsentError('invalid_argument', `${where} takes a requirement id or a non-empty array of ids`);
    }
    const ids = [...new Set(list as string[])];
    if (this.engine.registry.isSealed) {
      const unknown = ids.filter((id) => !this.engine.registry.has(id));
      if (unknown.length > 0) throw unknownIds(unknown);
    } else {
      for (const id of ids) this.awaited.add(id);
    }
    return ids;
  }

  /** The instance's `ready()`: the engine's, which rejects when a remembered id is unknown. */
  ready(): Promise<void> {
    this.promise ??= this.engine.ready().then(() => {
      this.served = true;
    });
    return this.promise;
  }

  /** True once `ready()` has resolved: the guard may then skip awaiting it. */
  get isServing(): boolean {
    return this.served;
  }

  /**
   * Waits for `ready()` to settle, whichever way: the registry is sealed then, so a route can
   * answer what was sent (404, 400, 422, 409) before it answers that the store cannot serve.
   */
  async settled(): Promise<void> {
    await this.ready().catch(() => undefined);
  }

  /**
   * Waits for `ready()`; a rejected `ready()` means the store cannot serve: `store_unavailable`.
   * It stays rejected, so the log says once what to do rather than once per request.
   */
  async serving(): Promise<void> {
    try {
      await this.ready();
    } catch (error) {
      const message = error instanceof InstanceClosedError
        ? 'not ready: the consent instance was closed before ready() finished; it answers 503'
        : `not ready: ready() failed (${String(error)}); this instance answers 503 until the process is restarted with the cause fixed`;
      throw new ConsentError('store_unavailable', message, { cause: error, extensions: { logOnce: message } });
    }
  }
}
