import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { streamChunks } from '../../lib/io/stream-chunks';

/** A source whose first read rejects, as a store that is down would. */
const failingAtOnce = (): AsyncIterable<string> => ({
  [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('the store is down')) }),
});

async function* pages(): AsyncGenerator<string> {
  await Promise.resolve();
  yield 'first\n';
  yield 'second\n';
}

describe('streamChunks() with a destination opened on the first chunk', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'express-consent-chunks-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('never opens it when the first read fails, so an existing file keeps its content', async () => {
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, "yesterday's export\n");
    let opened = 0;
    const open = () => {
      opened += 1;
      return createWriteStream(file);
    };
    let failure: unknown = null;
    await streamChunks(failingAtOnce(), open).catch((error: unknown) => {
      failure = error;
    });
    expect((failure as Error | null)?.message).to.equal('the store is down');
    expect(opened).to.equal(0);
    expect(readFileSync(file, 'utf8')).to.equal("yesterday's export\n");
  });

  it('opens it once the first chunk is in hand and writes every chunk', async () => {
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, "yesterday's export\n");
    await streamChunks(pages(), () => createWriteStream(file));
    expect(readFileSync(file, 'utf8')).to.equal('first\nsecond\n');
  });
});
