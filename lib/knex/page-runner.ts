/**
 * Runs read-only statements whose single value is a page of rows as one JSON text, on
 * connections of its own, so that a scan of the whole store (`verify()`, an audience) reads
 * while the main thread checks what it read.
 */
export interface PageRunner {
  /** The statement's single value. Rejects when it failed (the caller reads the usual way). */
  page(sql: string, bindings: readonly unknown[]): Promise<unknown>;
  /** False once it cannot answer any more (its thread stopped). */
  readonly alive: boolean;
  close(): Promise<void>;
}
