import { randomBytes } from 'node:crypto';
import { createWriteStream, lstatSync, realpathSync, rmSync, statSync, type Stats } from 'node:fs';
import { chmod, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { streamChunks } from '../io/stream-chunks';
import { usage } from './exit';

/** What `file` is now (through symlinks), or null when nothing is there yet. */
function existing(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

// Exports and audiences hold personal data (pseudonyms, actors, subject ids as the host gave
// them): a new file is readable by its owner only, whatever the umask.
const NEW_FILE_MODE = 0o600;

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Until the returned function is called, an interrupt (Ctrl-C, `kill`, a closed terminal)
 * removes `partial` before the process ends by that signal: the half-written file holds
 * personal data, and a dot-file nobody looks for would keep it.
 */
function removedOnInterrupt(partial: string): () => void {
  const stop = (): void => { for (const signal of INTERRUPTS) process.removeListener(signal, interrupted); };
  function interrupted(signal: NodeJS.Signals): void {
    rmSync(partial, { force: true });
    stop();
    // With the listener gone the signal's default action applies: the exit status says so.
    process.kill(process.pid, signal);
  }
  for (const signal of INTERRUPTS) process.on(signal, interrupted);
  return stop;
}

/**
 * Refuses a symlink that another user planted in a shared directory (`/tmp`): followed, it
 * would have this process (often root) replace a file of that user's choosing. The kernel's
 * rule for opening through a symlink (`protected_symlinks`): in a sticky, world-writable
 * directory, a link is followed only when its owner is the follower or the directory's owner.
 * The partial file is renamed over the link's target, which that rule would not check.
 */
function refuseForeignSymlink(file: string): void {
  const link = lstatSync(file);
  const uid = process.getuid?.();
  if (!link.isSymbolicLink() || uid === undefined || link.uid === uid) return;
  const dir = statSync(dirname(file));
  const shared = (dir.mode & 0o1000) !== 0 && (dir.mode & 0o002) !== 0;
  if (shared && dir.uid !== link.uid) {
    throw usage(`--output ${file} is a symlink of another user in a shared directory: not followed; give the file it points to`);
  }
}

/**
 * Writes `chunks` to `file` whole or not at all: into a new file beside it, flushed to disk and
 * renamed over it once complete, so that an export that fails midway (a full disk, a lost
 * database) leaves an existing file as it was. A new file is created `0600`; an existing one
 * keeps its permissions, and a symlink is written through (not another user's in a shared
 * directory); a device or pipe (`/dev/stdout`) is written directly.
 */
export async function writeOutputFile(chunks: AsyncIterable<string>, file: string): Promise<void> {
  const before = existing(file);
  if (before !== null) refuseForeignSymlink(file);
  if (before !== null && !before.isFile()) {
    await streamChunks(chunks, () => createWriteStream(file));
    return;
  }
  const target = before === null ? file : realpathSync(file);
  const partial = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  const uninterrupted = removedOnInterrupt(partial);
  try {
    // Created with the permissions of the file it replaces, or for its owner only.
    const mode = before === null ? NEW_FILE_MODE : before.mode & 0o777;
    await streamChunks(chunks, () => createWriteStream(partial, { flags: 'wx', mode }));
    const handle = await open(partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Exactly those: the umask may have narrowed them. Never set-user-ID, set-group-ID or sticky.
    if (before !== null) await chmod(partial, before.mode & 0o777);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    uninterrupted();
  }
}
