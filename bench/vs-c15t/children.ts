import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemoryReport } from './memory';

/** A server of the side-by-side in its own process. */
export interface Child {
  url: string;
  memory(): Promise<MemoryReport>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A bench that fails halfway must not leave its servers behind.
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

function spawnScript(script: string, env: Record<string, string>): ChildProcess {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path], { env: { ...process.env, ...env, NODE_ENV: 'bench' }, stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  child.once('exit', () => { running.delete(child); });
  return child;
}

/** Runs `script` to its end (seeding); rejects unless it exits with 0. */
export function runChild(script: string, env: Record<string, string>): Promise<void> {
  const child = spawnScript(script, env);
  child.stdout?.pipe(process.stdout);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => { if (code === 0) resolve(); else reject(new Error(`${script} exited with ${String(code)}`)); });
  });
}

/** Starts the server `script`; resolves once it prints its port. */
export function startChild(script: string, env: Record<string, string>): Promise<Child> {
  const child = spawnScript(script, env);
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => { reject(new Error(`${script} exited with ${String(code)} before listening`)); });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (!match) return;
      child.removeAllListeners('exit');
      const url = `http://127.0.0.1:${String(match[1])}`;
      resolve({
        url,
        memory: async () => (await (await fetch(`${url}/__bench/memory`)).json()) as MemoryReport,
        stop: () => new Promise<void>((done) => {
          child.once('exit', () => { done(); });
          child.kill('SIGTERM');
        }),
      });
    });
  });
}
