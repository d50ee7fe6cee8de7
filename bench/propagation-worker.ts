/**
 * One app process of `bench/propagation.ts`: a consent instance on the shared database
 * (BENCH_TARGET, a JSON `Target`) with a long cache lifetime, driven over IPC by the parent.
 */
import { performance } from 'node:perf_hooks';
import { benchConsent, openKnex, type Target } from './lib/setup';

type Command = { id: number; cmd: 'grant' | 'withdraw' | 'watch' | 'stop'; subject?: string };

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const knex = openKnex(JSON.parse(process.env.BENCH_TARGET as string) as Target);
// A minute of cache lifetime: only the change feed can make this process see a change in time.
const consent = await benchConsent(knex, { cache: { max: 10_000, ttlMs: 60_000 } });
const send = (message: object) => process.send?.(message);

async function handle(m: Command): Promise<void> {
  const subject = m.subject as string;
  switch (m.cmd) {
    case 'grant':
      await consent.record(subject, { analytics: 'granted' });
      return void send({ id: m.id });
    case 'withdraw': {
      const startedAt = now();
      await consent.record(subject, { analytics: 'denied' });
      return void send({ id: m.id, startedAt, committedAt: now() });
    }
    case 'watch':
      // Wait until this process has the grant cached, then poll (cache hits) until it refuses.
      while (!(await consent.isAllowed(subject, 'analytics'))) await sleep(2);
      send({ id: m.id, watching: true });
      while (await consent.isAllowed(subject, 'analytics')) await sleep(1);
      return void send({ id: m.id, seenAt: now(), notifications: consent.engine.notifications });
    case 'stop':
      await consent.close();
      await knex.destroy();
      process.exit(0);
  }
}

process.on('message', (m: Command) => void handle(m));
send({ ready: true });
