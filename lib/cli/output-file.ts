import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, lstatSync, readlinkSync, rmSync, statSync, type Stats } from 'node:fs';
import { chmod, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { streamChunks } from '../io/stream-chunks';
import { CliError, endBy, EXIT, onInterrupt, usage } from './exit';

// Exports and audiences hold personal data (pseudonyms, actors, subject ids as the host gave
// them): a new file is readable by its owner only, whatever the umask.
const NEW_FILE_MODE = 0o600;

// Where the path asked for cannot take a file: the argument is to change (exit 2).
const PATH_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'a part of its path is not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ELOOP: 'a link that is not followed here (in a shared directory), or a loop of links',
};

// Where the storage behind it gave out while writing: no room, or the device failed (exit 3).
const STORAGE_REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file grew too large for its file system',
  EIO: 'the device failed (input/output error)',
};

/**
 * A failure to create or write `file`, named by the file asked for: opening one of `opened` (the
 * file, or the hidden partial file beside it) where the path cannot take a file is a usage error
 * (exit 2); a full disk or a failing device while writing (a write's error names no path) a
 * storage error (exit 3). Anything else (the database's own failures) is passed on as it is.
 */
function namedFailure(error: unknown, file: string, opened: readonly string[]): unknown {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  if (code === undefined) return error;
  const storage = STORAGE_REASONS[code];
  if (storage !== undefined) return new CliError(`cannot write ${file}: ${storage}`, EXIT.storage);
  const reason = PATH_REASONS[code];
  return reason === undefined || path === undefined || !opened.includes(path) ? error : usage(`cannot write ${file}: ${reason}`);
}

/**
 * Until the returned function is called, an interrupt (Ctrl-C, `kill`, a closed terminal)
 * removes `partial` before the process ends by that signal: the half-written file holds
 * personal data, and a dot-file nobody looks for would keep it.
 */
function removedOnInterrupt(partial: string): () => void {
  const stop = onInterrupt((signal) => {
    rmSync(partial, { force: true });
    endBy(signal, stop);
  });
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

// Links followed at most in one path, as the kernel does (ELOOP past that).
const MAX_LINKS = 40;

/**
 * Where `file` leads, whether or not it exists: each part of the path taken in turn from `from`,
 * links followed wherever they point (a link to nothing yet too, and one reached through `..`,
 * which the kernel takes from where the link led, not lexically), as an absolute path. Past
 * `MAX_LINKS` links the rest is taken as written; with `stopInShared`, so is a link in a shared
 * directory (see `inSharedDirectory`), which another user may have planted.
 */
function physicalPath(file: string, stopInShared = false, from: string = process.cwd(), links = { left: MAX_LINKS }): string {
  let at = isAbsolute(file) ? sep : from;
  for (const part of file.split(sep)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      at = dirname(at);
      continue;
    }
    const next = join(at, part);
    if (entryAt(next, false)?.isSymbolicLink() === true && links.left > 0 && !(stopInShared && inSharedDirectory(next))) {
      links.left -= 1;
      at = physicalPath(readlinkSync(next), stopInShared, at, links);
    } else {
      at = next;
    }
  }
  return at;
}

/** What is at `file`: the entry itself when `follow` is false (a link stays a link); null when nothing is. */
function entryAt(file: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(file) : lstatSync(file);
  } catch {
    return null;
  }
}

/** Whether `a` and `b` name one file: the same path once links are followed (existing or not), or the same file (a hard link). */
function sameFile(a: string, b: string): boolean {
  if (physicalPath(a) === physicalPath(b)) return true;
  const x = entryAt(a, true);
  const y = entryAt(b, true);
  return x !== null && y !== null && x.dev === y.dev && x.ino === y.ino;
}

/**
 * A usage error when `file` is the SQLite database `database` (or its journal, write-ahead log or
 * shared memory, named beside the path given or beside the file it leads to: they may not exist
 * while no process has the database open): the output would replace the store it was read from,
 * or be taken for its log and deleted when it is next opened.
 */
export function refuseDatabaseOutput(file: string, database: string | null): void {
  if (database === null) return;
  for (const base of new Set([database, physicalPath(database)])) {
    for (const part of [base, `${base}-wal`, `${base}-journal`, `${base}-shm`]) {
      if (sameFile(file, part)) throw usage(`--output ${file} is the database's own file (${part}): writing there would destroy the store; name another file`);
    }
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
  // A name ending in a separator is a directory's, whether or not one is there (not a file's without it).
  if (file.endsWith(sep)) throw usage(`cannot write ${file}: a path ending in "${sep}" names a directory`);
  const shared = inSharedDirectory(file);
  const before = entryAt(file, !shared);
  if (before?.isDirectory() === true) throw usage(`cannot write ${file}: it is a directory`);
  if (before !== null && !before.isFile() && !before.isSymbolicLink()) {
    // Opened by the entry checked: in a shared directory a link swapped in meanwhile is refused (ELOOP).
    const fd = shared ? await open(file, constants.O_WRONLY | constants.O_NOFOLLOW).catch((error: unknown) => { throw namedFailure(error, file, [file]); }) : undefined;
    await streamChunks(chunks, () => createWriteStream(file, fd === undefined ? {} : { fd })).catch((error: unknown) => {
      throw namedFailure(error, file, [file]);
    });
    return;
  }
  // A chain of links is followed to its end, but never through a link in a shared directory:
  // there the file replaces that link.
  const target = shared ? file : physicalPath(file, true);
  const replaced = entryAt(target, false);
  const kept = replaced !== null && replaced.isFile() ? replaced.mode & 0o777 : null;
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
    throw namedFailure(error, file, [partial]);
  } finally {
    uninterrupted();
  }
}
