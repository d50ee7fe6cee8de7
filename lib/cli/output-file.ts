import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, lstatSync, readlinkSync, realpathSync, rmSync, statSync, type Stats } from 'node:fs';
import { chmod, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { streamChunks } from '../io/stream-chunks';
import { usage, type CliError } from './exit';

// Exports and audiences hold personal data (pseudonyms, actors, subject ids as the host gave
// them): a new file is readable by its owner only, whatever the umask.
const NEW_FILE_MODE = 0o600;

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'a part of its path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/** A failure to create or write the hidden partial file, named by the file asked for (exit 2). */
function namedByTarget(error: unknown, partial: string, file: string): unknown {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  if (path !== partial || code === undefined) return error;
  const failure: CliError = usage(`cannot write ${file}: ${REASONS[code] ?? code}`);
  return failure;
}

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
 * Whether `file` is in a shared directory (sticky and world-writable, such as `/tmp`), where
 * another user may plant a symlink at that name, or swap one in between a check and a use:
 * followed, it would have this process (often root) replace a file of that user's choosing.
 * There no link is ever followed: the output replaces the link itself, and a device or pipe is
 * opened with `O_NOFOLLOW`.
 */
function inSharedDirectory(file: string): boolean {
  try {
    const dir = statSync(dirname(file));
    return (dir.mode & 0o1000) !== 0 && (dir.mode & 0o002) !== 0;
  } catch {
    return false;
  }
}

/** Where a symlink at `file` that points at nothing leads (written through, as any link outside a shared directory), else `file`. */
function danglingTarget(file: string): string {
  const entry = entryAt(file, false);
  return entry?.isSymbolicLink() === true ? resolve(dirname(file), readlinkSync(file)) : file;
}

/** What is at `file`: the entry itself when `follow` is false (a link stays a link); null when nothing is. */
function entryAt(file: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(file) : lstatSync(file);
  } catch {
    return null;
  }
}

/** Whether `a` and `b` name one file: the same path, or (existing) the same file through a link. */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  const x = entryAt(a, true);
  const y = entryAt(b, true);
  return x !== null && y !== null && x.dev === y.dev && x.ino === y.ino;
}

/**
 * A usage error when `file` is the SQLite database `database` (or its journal, write-ahead log or
 * shared memory): the output would replace the store it was read from.
 */
export function refuseDatabaseOutput(file: string, database: string | null): void {
  if (database === null) return;
  for (const part of [database, `${database}-wal`, `${database}-journal`, `${database}-shm`]) {
    if (sameFile(file, part)) throw usage(`--output ${file} is the database's own file (${part}): writing there would destroy the store; name another file`);
  }
}

/**
 * Writes `chunks` to `file` whole or not at all: into a new file beside it, flushed to disk and
 * renamed over it once complete, so that an export that fails midway (a full disk, a lost
 * database) leaves an existing file as it was. A new file is created `0600`; an existing one
 * keeps its permissions; a symlink is written through, except in a shared directory (see
 * `inSharedDirectory`); a device or pipe (`/dev/stdout`) is written directly.
 */
export async function writeOutputFile(chunks: AsyncIterable<string>, file: string): Promise<void> {
  const shared = inSharedDirectory(file);
  const before = entryAt(file, !shared);
  if (before?.isDirectory() === true) throw usage(`cannot write ${file}: it is a directory`);
  if (before !== null && !before.isFile() && !before.isSymbolicLink()) {
    // Opened by the entry checked: in a shared directory a link swapped in meanwhile is refused (ELOOP).
    const fd = shared ? await open(file, constants.O_WRONLY | constants.O_NOFOLLOW) : undefined;
    await streamChunks(chunks, () => createWriteStream(file, fd === undefined ? {} : { fd })).catch((error: unknown) => {
      const { code } = (error ?? {}) as NodeJS.ErrnoException;
      throw code === undefined || code === 'EPIPE' ? error : usage(`cannot write ${file}: ${REASONS[code] ?? code}`);
    });
    return;
  }
  const kept = before !== null && before.isFile() ? before.mode & 0o777 : null;
  const target = shared ? file : before === null ? danglingTarget(file) : realpathSync(file);
  const partial = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  const uninterrupted = removedOnInterrupt(partial);
  try {
    // Created with the permissions of the file it replaces, or for its owner only.
    const mode = kept ?? NEW_FILE_MODE;
    await streamChunks(chunks, () => createWriteStream(partial, { flags: 'wx', mode }));
    const handle = await open(partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Exactly those: the umask may have narrowed them. Never set-user-ID, set-group-ID or sticky.
    if (kept !== null) await chmod(partial, kept);
    await rename(partial, target);
  } catch (error) {
    // Where the partial file could not even be made (ENOTDIR), its removal fails too: the first failure is told.
    await rm(partial, { force: true }).catch(() => undefined);
    throw namedByTarget(error, partial, file);
  } finally {
    uninterrupted();
  }
}
