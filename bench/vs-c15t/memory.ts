import { readFileSync } from 'node:fs';

/** Where a process's resident memory is, in MiB. */
export interface MemoryReport {
  /** Resident set size: everything below. */
  rss: number;
  /** Anonymous memory: the V8 heap, SQLite's page cache, native buffers. */
  anon: number;
  /** File pages mapped in: the program and its libraries, and the database's memory map. */
  file: number;
  /** V8 heap in use (the state cache and the pseudonym cache live here). */
  heapUsed: number;
  /** Memory held outside the heap by JavaScript objects (buffers). */
  external: number;
}

const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/** This process's memory report, from /proc/self/smaps_rollup (Linux) and V8. */
export function memoryReport(): MemoryReport {
  const kb = (name: string, text: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  let text = '';
  try {
    text = readFileSync('/proc/self/smaps_rollup', 'utf8');
  } catch {
    // Not Linux: only the totals Node reports.
  }
  const usage = process.memoryUsage();
  return {
    rss: mib(usage.rss),
    anon: mib(kb('Anonymous', text)),
    file: mib(kb('Rss', text) - kb('Anonymous', text) - kb('Shmem', text)),
    heapUsed: mib(usage.heapUsed),
    external: mib(usage.external),
  };
}
