import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The directory of the library as committed at `commit` (its `lib/`, from git, beside this
 * tree's dependencies), for tests that build a store with an earlier release and upgrade it.
 */
export function olderLibrary(commit: string): string {
  const dir = join(tmpdir(), `express-consent-lib-${commit}`);
  if (!existsSync(join(dir, 'lib/index.ts'))) {
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['-C', ROOT, 'archive', commit, 'lib', 'package.json'], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  }
  // This checkout's dependencies: a link left by an earlier checkout may point nowhere now.
  const modules = join(dir, 'node_modules');
  rmSync(modules, { force: true });
  symlinkSync(join(ROOT, 'node_modules'), modules);
  return dir;
}
