import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
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
  // By the commit's full hash: a branch name (`--before main`) must not reuse an older copy.
  const hash = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${commit}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = join(tmpdir(), `ec-lib-${hash}`);
  if (!existsSync(join(dir, 'lib/index.ts'))) {
    // Extracted beside it and renamed into place: a copy cut short is never taken for whole.
    const partial = mkdtempSync(join(tmpdir(), `ec-lib-${hash.slice(0, 12)}-`));
    const archive = execFileSync('git', ['-C', ROOT, 'archive', hash, 'lib', 'package.json'], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', partial], { input: archive });
    try {
      renameSync(partial, dir);
    } catch {
      // Another run put it in place first.
      rmSync(partial, { recursive: true, force: true });
    }
  }
  // Linked to this checkout's dependencies on every run: a link left by a checkout since
  // removed dangles (and a dangling link does not "exist", but cannot be made again either).
  const link = join(dir, 'node_modules');
  rmSync(link, { force: true });
  try {
    symlinkSync(join(ROOT, 'node_modules'), link);
  } catch (error) {
    // Another run linked it meanwhile.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return dir;
}
