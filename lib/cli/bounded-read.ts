import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { CliError, usage } from './exit';

/** The most a command reads of a small file (a checkpoint, a key), and of one line of an import. */
export const MAX_FILE_BYTES = 1 << 20;

// Strict: a byte sequence that is not UTF-8 is refused rather than read as U+FFFD, which would
// make two different subject ids (or checkpoints) one. A byte-order mark is kept (the import drops
// the first line's, the small files theirs).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of a small file's bytes; a usage error when they are not UTF-8. */
function fileText(bytes: Uint8Array, file: string, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw usage(`${file} is not UTF-8 text: not ${what}`);
  }
}

const REASONS: Readonly<Record<string, string>> = { ENOENT: 'no such file', EISDIR: 'it is a directory', EACCES: 'permission denied', EPERM: 'permission denied' };

/** `: <why>` for a file system error whose cause an operator can fix, else nothing. */
export function reason(error: unknown): string {
  const why = REASONS[String((error as NodeJS.ErrnoException | null)?.code)];
  return why === undefined ? '' : `: ${why}`;
}

/**
 * The text of `file`, a usage error when it cannot be read, holds more than `MAX_FILE_BYTES`
 * (`/dev/zero` given by mistake would otherwise be read until memory runs out), or is not UTF-8
 * (read as U+FFFD, two different files would give one text).
 */
export function readSmallFile(file: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw usage(`cannot read ${file}${reason(error)}`);
  }
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_FILE_BYTES) throw usage(`${file} is larger than 1 MiB: not ${what}`);
    }
    return fileText(buffer.subarray(0, length), file, what);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usage(`cannot read ${file}${reason(error)}`);
  } finally {
    closeSync(fd);
  }
}

const LF = 0x0a;
const CR = 0x0d;

/** The text of one line's bytes; a usage error naming the line when they are not UTF-8. */
function lineText(bytes: Uint8Array, file: string, n: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw usage(`${file}:${String(n)}: not UTF-8 text (save the file as UTF-8)`);
  }
}

/**
 * The lines of `file` (without their end: LF, CRLF or a lone CR, as `readline` reads them), each
 * with its number from 1, read as strict UTF-8; a usage error naming the line when one is not
 * UTF-8, or runs past `MAX_FILE_BYTES` bytes (before it is held whole). Cut at the bytes of the
 * line ends, which no other UTF-8 character contains.
 */
export async function* fileLines(file: string): AsyncGenerator<{ line: string; n: number }> {
  let rest: Buffer = Buffer.alloc(0);
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    const bytes = rest.length === 0 ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    // A CR at the very end may be the first half of a CRLF: kept for the next chunk.
    const end = bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    let start = 0;
    for (let i = 0; i < end; i += 1) {
      const c = bytes[i];
      if (c !== LF && c !== CR) continue;
      n += 1;
      if (i - start > MAX_FILE_BYTES) throw tooLong(file, n);
      yield { line: lineText(bytes.subarray(start, i), file, n), n };
      if (c === CR && bytes[i + 1] === LF) i += 1;
      start = i + 1;
    }
    rest = bytes.subarray(start);
    // (Without the CR kept at its end, which may end it.)
    if (rest.length - (end < bytes.length ? 1 : 0) > MAX_FILE_BYTES) throw tooLong(file, n + 1);
  }
  if (rest[rest.length - 1] === CR) rest = rest.subarray(0, rest.length - 1);
  if (rest.length > 0) yield { line: lineText(rest, file, n + 1), n: n + 1 };
}

const tooLong = (file: string, n: number) => usage(`${file}:${String(n)}: a line longer than 1 MiB`);
