import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // `tree-worker` and `hmac-worker` are the scripts of the threads `verify()` hashes on,
    // `audience-worker` that of the threads judging a large audience's pages, and `page-worker`
    // that of the thread reading a large SQLite store through better-sqlite3, each found beside
    // the chunk that starts it.
    entry: {
      index: 'lib/index.ts', tracker: 'lib/tracker.ts', testing: 'lib/testing.ts',
      'tree-worker': 'lib/audit/tree-worker.ts', 'hmac-worker': 'lib/audit/hmac-worker.ts', 'page-worker': 'lib/knex/page-worker.ts',
      'audience-worker': 'lib/core/audience-worker.ts',
    },
    format: ['esm', 'cjs'],
    // Members marked `@internal` (the engine behind a `Consent`) stay out of the published types.
    dts: { compilerOptions: { stripInternal: true } },
    // Leaves the command line's files to the second build, which runs at the same time.
    clean: ['!cli.js', '!cli.js.map'],
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    // The entries share one copy of the library (chunks), so that an error or a tracker made by
    // one of them is an `instanceof` the classes of another. Rollup (`treeshake`) splits the
    // CommonJS build as it is; without it tsup rewrites those chunks with sucrase, which
    // downlevels class fields, `?.` and `??` into helper calls.
    splitting: true,
    treeshake: true,
  },
  {
    // The command line: one ESM file, executable through its shebang.
    entry: { cli: 'lib/cli/main.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
