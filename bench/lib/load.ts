import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { shortLoad } from './short-load';
import type { Target } from './setup';

/** A bench server in a child process, and how to stop it. */
export interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a bench server (`bench/http-server.ts`, or `script` in bench/) in a child process on
 * `target`, with `env` added; resolves when it listens.
 */
export function startServer(target: Target, subjects: number, options: { script?: string; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const script = fileURLToPath(new URL(`../${options.script ?? 'http-server.ts'}`, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...options.env, BENCH_TARGET: JSON.stringify(target), BENCH_SUBJECTS: String(subjects), NODE_ENV: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => { reject(new Error(`bench server exited with ${String(code)}`)); });
    const listening = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (!match) return;
      // Once: a later line must not take away the exit listener `stop()` waits on.
      child.stdout?.off('data', listening);
      child.stdout?.resume();
      child.removeAllListeners('exit');
      resolve({
        url: `http://127.0.0.1:${String(match[1])}`,
        stop: () =>
          new Promise<void>((done) => {
            // A server that already died (a crash under load) has nothing to wait for.
            if (child.exitCode !== null || child.signalCode !== null) {
              done();
              return;
            }
            child.once('exit', () => { done(); });
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout?.on('data', listening);
  });
}

/** One load run: requests per second and latency of a route, with a rotating subject. */
export interface LoadResult {
  rps: number;
  /** Requests completed. */
  requests: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'PUT';
  body?: string;
  subjects: number;
  duration: number;
  connections?: number;
  /** Cookie headers to rotate through instead of the `x-user` subjects (visitors). */
  cookies?: string[];
}

/** The headers that name the next subject (or visitor) of a run, in turn. */
function rotation(spec: LoadSpec): () => Record<string, string> {
  let next = 0;
  return (): Record<string, string> => {
    const { cookies } = spec;
    next = (next + 1) % (cookies ? cookies.length : spec.subjects);
    if (cookies) return { cookie: cookies[next] as string };
    return { 'x-user': `u${String(next)}` };
  };
}

export async function load(spec: LoadSpec): Promise<LoadResult> {
  const who = rotation(spec);
  const headers: Record<string, string> = spec.body ? { 'content-type': 'application/json' } : {};
  const method = spec.method ?? 'GET';
  const connections = spec.connections ?? 10;
  // A smoke run: autocannon would round it up to a whole second.
  if (spec.duration < 1) return shortLoad(spec.url, spec.duration, connections, () => ({ method, headers: { ...headers, ...who() }, body: spec.body }));
  const result = await autocannon({
    url: spec.url,
    method,
    connections,
    duration: spec.duration,
    headers,
    body: spec.body,
    requests: [
      {
        setupRequest: (request: Record<string, unknown>) => ({ ...request, headers: { ...(request.headers as object), ...who() } }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}
