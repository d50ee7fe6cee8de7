/**
 * Thrown by a write's planner that finds, on the snapshot read inside the write, nothing left
 * to write (the subject was erased since it was listed): the write is dropped, nothing stored.
 */
export class NothingToWrite extends Error {}

/** Whether `error` is a `type`, or a store error (through the storage deadline) caused by one. */
export function raisedAs(error: unknown, type: abstract new (...args: never[]) => Error): boolean {
  return error instanceof type || (error as { cause?: unknown } | null)?.cause instanceof type;
}
