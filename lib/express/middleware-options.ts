import { ConsentError } from '../errors';

/**
 * The options object a middleware factory was given, checked for its shape only: an object (or
 * nothing) whose keys are all among `known`. Each factory then checks the values it reads.
 *
 * @throws ConsentError `invalid_argument` naming the factory and the unknown key.
 */
export function middlewareOptions<Key extends string>(options: unknown, factory: string, known: readonly Key[]): Partial<Record<Key, unknown>> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new ConsentError('invalid_argument', `${factory} options must be an object`);
  for (const key of Object.keys(options)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new ConsentError('invalid_argument', `${factory} has no option "${key}" (only ${known.map((k) => `"${k}"`).join(', ')})`);
    }
  }
  return options;
}
