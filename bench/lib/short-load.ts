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

/** How long a request may take before it counts as an error (autocannon's default timeout). */
const TIMEOUT_MS = 10_000;

/** How one request ended: its latency in ms, whether the answer was 2xx; no answer at all (failure, timeout) is null. */
type Outcome = { ms: number; ok: boolean } | null;

/** One request on a kept-alive connection. */
function send(agent: Agent, url: URL, next: ShortRequest): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = request(url, { agent, method: next.method, headers: next.headers }, (res) => {
      const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
      res.resume();
      res.once('end', () => { settle({ ms: performance.now() - started, ok }); });
      // Cut off before its end: no whole answer.
      res.once('close', () => { settle(null); });
    });
    req.setTimeout(TIMEOUT_MS, () => { req.destroy(); });
    req.once('error', () => { settle(null); });
    req.once('close', () => { settle(null); });
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
      const outcome = await send(agent, target, next());
      // As autocannon counts: every answer is a request done; a non-2xx one, a failure or a timeout is an error.
      if (outcome !== null) latencies.push(outcome.ms);
      if (outcome === null || !outcome.ok) errors += 1;
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
