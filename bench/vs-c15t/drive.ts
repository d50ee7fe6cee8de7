import autocannon from 'autocannon';
import { base58, requestFor, type Workload } from './workloads';

let written = 0;

/** Loads one server with one workload for `seconds`; resolves to requests per second. */
export async function loadWorkload(spec: {
  url: string;
  kind: 'c15t' | 'consent';
  workload: Workload;
  subjects: number;
  seconds: number;
  connections: number;
  decided: readonly string[];
}): Promise<number> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    requests: [
      {
        setupRequest: (request: Record<string, unknown>) => {
          // A fixed subject, a random seeded one, or one never seen before.
          const n = spec.workload === 'read one subject' ? 0 : Math.floor(Math.random() * spec.subjects);
          written += 1;
          const shape = requestFor(spec.kind, spec.workload, n, `W${base58(process.pid)}x${base58(written)}`, spec.decided);
          return { ...request, ...shape };
        },
      },
    ],
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) throw new Error(`${spec.kind} ${spec.workload}: ${String(failed)} failed requests`);
  return result.requests.average;
}
