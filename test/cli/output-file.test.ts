import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { writeOutputFile } from '../../lib/cli/output-file';

async function* chunks(lines: string[], failAfter = Infinity): AsyncGenerator<string> {
  for (const [i, line] of lines.entries()) {
    if (i >= failAfter) throw new Error('the database went away');
    yield line;
  }
}

describe('--output files (export, audience)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'express-consent-output-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('replaces an existing file only once everything is written, and leaves no partial file behind', async () => {
    const file = join(dir, 'events.csv');
    writeFileSync(file, 'the export of yesterday\n');
    const failure = await writeOutputFile(chunks(['a\n', 'b\n', 'c\n'], 2), file).then(() => null, (error: unknown) => error as Error);
    expect(failure?.message).to.equal('the database went away');
    expect(readFileSync(file, 'utf8')).to.equal('the export of yesterday\n');
    expect(readdirSync(dir)).to.deep.equal(['events.csv']);
    await writeOutputFile(chunks(['a\n', 'b\n', 'c\n']), file);
    expect(readFileSync(file, 'utf8')).to.equal('a\nb\nc\n');
    expect(readdirSync(dir)).to.deep.equal(['events.csv']);
  });

  it('writes a device directly', async () => {
    await writeOutputFile(chunks(['nothing\n']), '/dev/null');
  });
});
