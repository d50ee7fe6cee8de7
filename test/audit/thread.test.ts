import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startThread } from '../../lib/audit/thread';

/** The first message or error of a thread, then the thread stopped. */
function firstOf(worker: Worker): Promise<{ message?: unknown; error?: Error }> {
  return new Promise((resolve) => {
    worker.once('message', (message: unknown) => { void worker.terminate(); resolve({ message }); });
    worker.once('error', (error: Error) => { void worker.terminate(); resolve({ error }); });
  });
}

describe('worker threads started from the TypeScript sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'thread-test-'));
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('runs a script and the modules it imports, with its workerData', async () => {
    writeFileSync(join(dir, 'double.ts'), 'export const double = (n: number): number => n * 2;\n');
    writeFileSync(join(dir, 'answer.ts'), [
      "import { parentPort, workerData } from 'node:worker_threads';",
      "import { createHash } from 'node:crypto';",
      "import { double } from './double';",
      'const input = workerData as { n: number };',
      "parentPort?.postMessage({ doubled: double(input.n), crypto: typeof createHash, global: typeof crypto });",
      '',
    ].join('\n'));
    const { message, error } = await firstOf(startThread(pathToFileURL(join(dir, 'answer.ts')), { n: 21 }));
    expect(error).to.equal(undefined);
    // A module-level `crypto` of the script does not collide with the global of that name.
    expect(message).to.deep.equal({ doubled: 42, crypto: 'function', global: 'object' });
  });

  it('reports a script that does not compile as the thread’s error', async () => {
    writeFileSync(join(dir, 'broken.ts'), 'export const = ;\n');
    const { message, error } = await firstOf(startThread(pathToFileURL(join(dir, 'broken.ts')), null));
    expect(message).to.equal(undefined);
    expect(error).to.be.instanceOf(Error);
  });
});

describe('the priority of the hashing threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'thread-priority-'));
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('is lowered for the thread that asks (Linux), and the main thread keeps its own', async function () {
    if (process.platform !== 'linux') this.skip();
    const script = join(dir, 'nice.ts');
    writeFileSync(script, [
      "import { readlinkSync } from 'node:fs';",
      "import { getPriority } from 'node:os';",
      "import { parentPort } from 'node:worker_threads';",
      `import { lowerThreadPriority } from ${JSON.stringify(join(process.cwd(), 'lib/audit/thread-priority.ts'))};`,
      "const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());",
      'const before = getPriority(tid);',
      'lowerThreadPriority();',
      'parentPort?.postMessage({ before, after: getPriority(tid) });',
      '',
    ].join('\n'));
    const main = getPriority();
    const { message, error } = await firstOf(startThread(pathToFileURL(script), null));
    expect(error).to.equal(undefined);
    const { before, after: lowered } = message as { before: number; after: number };
    expect(before).to.equal(main);
    expect(lowered).to.equal(Math.max(before, 10));
    expect(getPriority()).to.equal(main);
  });
});
