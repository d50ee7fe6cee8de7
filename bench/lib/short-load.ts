import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request of a short run: what `setupRequest` would add to autocannon's. */
export interface ShortRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** What a short run measured (the fields `LoadResult` takes from autocannon). */
export interface ShortResult {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One request on a kept-alive connection: its latency in ms, or -1 for a failure or a non-2xx answer. */
function send(agent: Agent, url: URL, next: ShortRequest): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(url, { agent, method: next.method, headers: next.headers }, (res) => {
      res.resume();
      res.once('end', () => {
        const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
        resolve(ok ? performance.now() - started : -1);
      });
      res.once('error', () => { resolve(-1); });
    });
    req.once('error', () => { resolve(-1); });
    req.end(next.body);
  });
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/**
 * Loads `url` for `seconds` (less than one) from `connections` kept-alive connections, each
 * sending its next request when the last one is answered. autocannon counts whole seconds, so
 * a smoke run of a fraction of a second would last a second per load; figures at that size mean
 * nothing either way.
 */
export async function shortLoad(url: string, seconds: number, connections: number, next: () => ShortRequest): Promise<ShortResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const connection = async (): Promise<void> => {
    while (performance.now() < end) {
      const ms = await send(agent, target, next());
      if (ms < 0) errors += 1;
      else latencies.push(ms);
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, connection));
  } finally {
    agent.destroy();
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, requests: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), errors };
}
