import { randomBytes } from 'node:crypto';
import { createWriteStream, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { streamChunks } from '../io/stream-chunks';

/** Whether `file` names something other than a regular file (a device, a pipe), as `/dev/stdout` does. */
function isSpecial(file: string): boolean {
  try {
    return !statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Writes `chunks` to `file` whole or not at all: into a new file beside it, renamed over it once
 * the last chunk is on disk, so that an export that fails midway (a full disk, a lost database)
 * leaves an existing file as it was. A device or pipe (`/dev/stdout`) is written directly.
 */
export async function writeOutputFile(chunks: AsyncIterable<string>, file: string): Promise<void> {
  if (isSpecial(file)) {
    await streamChunks(chunks, () => createWriteStream(file));
    return;
  }
  const partial = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await streamChunks(chunks, () => createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
