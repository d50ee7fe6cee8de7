import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fileLines, MAX_FILE_BYTES } from '../../lib/cli/bounded-read';
import { CliError } from '../../lib/cli/exit';

async function lines(file: string): Promise<string[] | CliError> {
  const out: string[] = [];
  try {
    for await (const { line } of fileLines(file)) out.push(line);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  return out;
}

describe('fileLines (command line import)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'express-consent-lines-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('refuses a line past 1 MiB whichever read of the file ends it', async () => {
    const file = join(dir, 'lines.ndjson');
    // The line's end comes in the read that takes it past the limit: it is never held alone.
    writeFileSync(file, `{}\n${'x'.repeat(MAX_FILE_BYTES + 10)}\n{}\n`);
    const read = await lines(file);
    expect(read).to.be.instanceOf(CliError);
    expect((read as CliError).message).to.equal(`${file}:2: a line longer than 1 MiB`);
  });

  it('counts the limit in bytes, as it says: a line of 3-byte characters past 1 MiB is refused', async () => {
    const file = join(dir, 'euro.ndjson');
    writeFileSync(file, `${'€'.repeat(Math.ceil(MAX_FILE_BYTES / 3) + 1)}\n`);
    const read = await lines(file);
    expect(read).to.be.instanceOf(CliError);
    expect((read as CliError).message).to.equal(`${file}:1: a line longer than 1 MiB`);
  });

  it('reads a line of exactly 1 MiB, and every line end (LF, CRLF across two reads, lone CR)', async () => {
    const file = join(dir, 'ok.ndjson');
    const big = 'y'.repeat(MAX_FILE_BYTES);
    // 65536 is the stream's read size: the CRLF after the first line is split between two reads.
    const first = 'a'.repeat(65_535);
    writeFileSync(file, `${first}\r\nb\rc\n${big}\r\n`);
    expect(await lines(file)).to.deep.equal([first, 'b', 'c', big]);
    // A line of 1 MiB whose CRLF is split by the end of a read (the CR is its 1114112th byte).
    const before = 'a'.repeat(65_534);
    writeFileSync(file, `${before}\n${big}\r\n`);
    expect(await lines(file)).to.deep.equal([before, big]);
  });
});
