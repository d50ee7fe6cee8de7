import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The URL of this module (built as CommonJS or as an ES module, or its source). */
const thisModule = (): string => (typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url);

/**
 * The script of a worker thread beside the module at `here` (this one by default): built
 * (`.js`, `.cjs`, as the package ships it, every script in one folder) or as source (`.ts`,
 * when the library runs from its sources); null when neither is there.
 */
export function threadScript(name: string, here: string = thisModule()): URL | null {
  for (const extension of ['.js', '.cjs', '.ts']) {
    const url = new URL(`${name}${extension}`, here);
    if (existsSync(url)) return url;
  }
  return null;
}

/** The part of esbuild's API a source thread is bundled with. */
interface Bundler {
  buildSync(options: Record<string, unknown>): { outputFiles: Array<{ text: string }> };
}

/** esbuild as the TypeScript loader (tsx) ships it, found from the working directory; null without it. */
function bundler(): Bundler | null {
  try {
    const fromCwd = createRequire(join(process.cwd(), 'noop.js'));
    return createRequire(fromCwd.resolve('tsx/package.json'))('esbuild') as Bundler;
  } catch {
    return null;
  }
}

const bundles = new Map<string, string | null>();

/**
 * A script in TypeScript and every module it imports, as one script that runs as a function
 * (bundled once per process), or null when esbuild is not there. Each import of a thread run
 * through tsx's loader crosses to the loader's own thread; bundled, the thread starts as fast as
 * the built package's.
 */
function bundle(script: URL): string | null {
  let code = bundles.get(script.href);
  if (code === undefined) {
    try {
      const out = bundler()?.buildSync({
        entryPoints: [fileURLToPath(script)], bundle: true, write: false, platform: 'node', format: 'iife', target: 'node20', logLevel: 'silent',
      });
      code = out?.outputFiles[0]?.text ?? null;
    } catch {
      code = null;
    }
    bundles.set(script.href, code);
  }
  return code;
}

/**
 * The code a thread starts with: an import of the built script, or the source script bundled.
 * Without esbuild, a thread on the sources registers the loader that runs them (tsx, found
 * from the working directory) before it imports the script, and fails to start without it.
 */
function bootstrap(script: URL): string {
  const load = `import(${JSON.stringify(script.href)})`;
  if (!script.pathname.endsWith('.ts')) return load;
  return bundle(script) ?? `import('tsx/esm/api').then((tsx) => { tsx.register(); return ${load}; })`;
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
