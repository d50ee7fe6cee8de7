import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository's root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A copy of `lib/` (and package.json) as of `commit`, beside this tree's dependencies, to run
 * an earlier library from its sources next to this one ("before" in a before/after bench).
 * Made once per commit in the temporary directory.
 */
export function olderLibrary(commit: string): string {
  const dir = join(tmpdir(), `ec-lib-${commit}`);
  if (!existsSync(join(dir, 'lib/index.ts'))) {
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['-C', ROOT, 'archive', commit, 'lib', 'package.json'], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  }
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
