/** Command-line settings shared by the bench scripts. */
export interface BenchArgs {
  /** PostgreSQL server URL (`--pg`, else `CONSENT_TEST_PG_URL`), or null for SQLite only. */
  pg: string | null;
  /** `--tiny`: seconds instead of minutes, for the smoke test. Figures mean nothing then. */
  tiny: boolean;
  /** Interleaved rounds per comparison (`--rounds`). */
  rounds: number;
  /** Seconds of load per variant per round (`--duration`). */
  duration: number;
  /** Events in the large lookup store (`--events`). */
  events: number;
  /** Skip PostgreSQL even when configured (`--sqlite-only`). */
  sqliteOnly: boolean;
  /** Skip the SQLite runs (`--pg-only`, with `--pg`). */
  pgOnly: boolean;
}

export function parseArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const tiny = argv.includes('--tiny');
  const sqliteOnly = argv.includes('--sqlite-only');
  return {
    pg: sqliteOnly ? null : value('pg') ?? process.env.CONSENT_TEST_PG_URL ?? null,
    tiny,
    sqliteOnly,
    pgOnly: argv.includes('--pg-only'),
    rounds: Number(value('rounds') ?? (tiny ? 1 : 15)),
    duration: Number(value('duration') ?? (tiny ? 0.3 : 2)),
    events: Number(value('events') ?? (tiny ? 2_000 : 1_000_000)),
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The value below which `p` (0–1) of the values fall (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}
