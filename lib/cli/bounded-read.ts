import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { CliError, usage } from './exit';

/** The most a command reads of a small file (a checkpoint, a key), and of one line of an import. */
export const MAX_FILE_BYTES = 1 << 20;

/**
 * The text of `file`, a usage error when it cannot be read or holds more than `MAX_FILE_BYTES`
 * (`/dev/zero` given by mistake would otherwise be read until memory runs out).
 */
export function readSmallFile(file: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    throw usage(`cannot read ${file}`);
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
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usage(`cannot read ${file}`);
  } finally {
    closeSync(fd);
  }
}

// Whether `text` takes more than `MAX_FILE_BYTES` in UTF-8 (a character takes 1 to 3 bytes per
// UTF-16 unit: counted only when it may).
const overLimit = (text: string): boolean => text.length > MAX_FILE_BYTES / 3 && Buffer.byteLength(text, 'utf8') > MAX_FILE_BYTES;

/**
 * The lines of `file` (without their end: LF, CRLF or a lone CR, as `readline` reads them), each
 * with its number from 1; a usage error naming the line when one runs past `MAX_FILE_BYTES`
 * bytes, before it is held whole.
 */
export async function* fileLines(file: string): AsyncGenerator<{ line: string; n: number }> {
  let rest = '';
  let n = 0;
  for await (const chunk of createReadStream(file, 'utf8')) {
    const text = rest + (chunk as string);
    // A CR at the very end may be the first half of a CRLF: kept for the next chunk.
    const end = text.endsWith('\r') ? text.length - 1 : text.length;
    const breaks = /\r\n|\n|\r/g;
    let start = 0;
    for (let found = breaks.exec(text); found !== null && found.index < end; found = breaks.exec(text)) {
      n += 1;
      const line = text.slice(start, found.index);
      // Its end may come in the very read that took it past the limit.
      if (overLimit(line)) throw tooLong(file, n);
      yield { line, n };
      start = found.index + found[0].length;
    }
    rest = text.slice(start);
    // (Without the CR kept at its end, which may end it.)
    if (overLimit(rest.endsWith('\r') ? rest.slice(0, -1) : rest)) throw tooLong(file, n + 1);
  }
  if (rest.endsWith('\r')) rest = rest.slice(0, -1);
  if (rest !== '') yield { line: rest, n: n + 1 };
}

const tooLong = (file: string, n: number) => usage(`${file}:${String(n)}: a line longer than 1 MiB`);
