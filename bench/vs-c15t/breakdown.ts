import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PRAGMAS } from '../../lib/knex/default-knex';
import { startChild } from './children';
import { loadWorkload } from './drive';

/** The default pragmas with the ones named in `changes` replaced. */
function withPragmas(changes: Record<string, string>): string[] {
  return DEFAULT_PRAGMAS.map((p) => {
    const name = p.split('=')[0]?.trim() as string;
    return name in changes ? `${name} = ${changes[name] as string}` : p;
  });
}

/**
 * Where express-consent's resident memory goes under the random read (`sqlite3`, the embedded
 * default): the same load on copies of one store, with one setting changed at a time.
 */
export async function memoryBreakdown(spec: { source: string; dir: string; subjects: number; seconds: number; connections: number; decided: readonly string[] }): Promise<void> {
  const pragmas = (cache: string, mmap: string) => ({ VS_PRAGMAS: JSON.stringify(withPragmas({ cache_size: cache, mmap_size: mmap })) });
  const configs: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'the defaults', env: {} },
    { name: 'SQLite\'s own (2 MiB page cache, no memory map)', env: pragmas('-2000', '0') },
    { name: '8 MiB page cache, no memory map', env: pragmas('-8192', '0') },
    { name: 'the previous defaults (64 MiB page cache, 1 GiB memory map)', env: pragmas('-65536', '1073741824') },
    { name: '16 MiB page cache, 256 MiB memory map', env: pragmas('-16384', '268435456') },
    { name: '64 MiB page cache, no memory map', env: pragmas('-65536', '0') },
    { name: '2 MiB page cache, 1 GiB memory map', env: pragmas('-2000', '1073741824') },
    { name: 'the defaults, state cache off', env: { VS_CACHE: 'off' } },
  ];
  console.log(`\n### Resident memory of express-consent (sqlite3) after ${String(spec.seconds)} s of random reads over ${String(spec.subjects)} subjects\n`);
  console.log('| settings | req/s | rss MiB | anonymous MiB | file-backed MiB | V8 heap used MiB | external MiB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [i, config] of configs.entries()) {
    const file = join(spec.dir, `memory-${String(i)}.sqlite3`);
    copyFileSync(spec.source, file);
    const child = await startChild('consent-server.ts', { VS_DB: file, VS_DRIVER: 'sqlite3', ...config.env });
    try {
      const rps = await loadWorkload({ url: child.url, kind: 'consent', workload: 'read a random subject', subjects: spec.subjects, seconds: spec.seconds, connections: spec.connections, decided: spec.decided });
      const m = await child.memory();
      console.log(`| ${config.name} | ${rps.toFixed(0)} | ${String(m.rss)} | ${String(m.anon)} | ${String(m.file)} | ${String(m.heapUsed)} | ${String(m.external)} |`);
    } finally {
      await child.stop();
    }
  }
}
