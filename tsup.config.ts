import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'lib/index.ts', testing: 'lib/testing.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    // Leaves the command line's files to the second build, which runs at the same time.
    clean: ['!cli.js', '!cli.js.map'],
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
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
