import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The script of a worker thread beside this module: built (`.js`, `.cjs`, as the package
 * ships it) or as source (`.ts`, when the library runs from its sources); null when neither is there.
 */
export function threadScript(name: string): URL | null {
  const here = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  for (const extension of ['.js', '.cjs', '.ts']) {
    const url = new URL(`${name}${extension}`, here);
    if (existsSync(url)) return url;
  }
  return null;
}

/**
 * The code a thread starts with: an import of the script. A thread does not inherit the
 * loader that runs the TypeScript sources (tests, benches): it registers it first (tsx, found
 * from the working directory), and fails to start without it.
 */
function bootstrap(script: URL): string {
  const load = `import(${JSON.stringify(script.href)})`;
  return script.pathname.endsWith('.ts') ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return ${load}; })` : load;
}

/**
 * Starts a worker thread on `script` with `workerData`. A script that fails to load shows as
 * the thread's `error` event.
 *
 * @throws when the thread cannot be created at all.
 */
export function startThread(script: URL, workerData: unknown): Worker {
  return new Worker(bootstrap(script), { eval: true, workerData });
}
