import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
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
      // Another run put it in place first, or an earlier run left an incomplete copy there.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(join(dir, 'lib/index.ts'))) throw new Error(`${dir} holds an incomplete copy of ${commit}: remove it and run again`);
    }
  }
  linkDependencies(join(dir, 'node_modules'), join(ROOT, 'node_modules'));
  return dir;
}

/**
 * Points `link` at this checkout's dependencies: a link left by a checkout since removed
 * dangles. Made under a name of its own and renamed over the old one, so that a run using the
 * copy meanwhile never finds it missing; left alone when it already points here.
 */
function linkDependencies(link: string, target: string): void {
  try {
    if (readlinkSync(link) === target) return;
  } catch {
    // None yet.
  }
  const fresh = `${link}-${String(process.pid)}`;
  rmSync(fresh, { force: true });
  symlinkSync(target, fresh);
  renameSync(fresh, link);
}

/** What a bench uses of a library loaded from its root (`lib/index.ts`), this tree's or an older one's. */
export interface LibraryModule {
  createConsent(options: Record<string, unknown>): {
    register(defs: unknown): void;
    ready(): Promise<void>;
    import(items: Iterable<unknown>, options?: { batchSize?: number }): Promise<unknown>;
    close(): Promise<void>;
  };
}
