import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildPackage } from '../helpers/build';

export const run = promisify(execFile);
export const repo = fileURLToPath(new URL('../..', import.meta.url));

/** A scratch application with the packed tarball installed, as an integrator would have it. */
export interface PackedApp {
  /** The application's directory. */
  scratch: string;
  /** The installed package's directory. */
  installed: string;
  /** The files in the tarball. */
  files: string[];
}

let packing: Promise<PackedApp> | null = null;
let scratchDir: string | null = null;

/** Builds, packs and installs the library once for every packaging test file. */
export function packedApp(): Promise<PackedApp> {
  packing ??= pack();
  return packing;
}

async function pack(): Promise<PackedApp> {
  const scratch = mkdtempSync(join(tmpdir(), 'express-consent-pack-'));
  scratchDir = scratch;
  await buildPackage();
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: repo });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, version: '1.0.0' }));
  // Only the tarball is installed (offline, no scripts); the peers and the type packages are
  // the repository's own copies, linked in, so that sqlite3 is not compiled again.
  await run('npm', ['install', '--no-package-lock', '--omit=peer', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(scratch, packed!.filename)], { cwd: scratch });
  for (const peer of ['express', 'knex', 'sqlite3', '@types']) {
    // CONSENT_EXPRESS_MAJOR=4 gives the application Express 4 (the `express4` dev dependency).
    const source = peer === 'express' && process.env.CONSENT_EXPRESS_MAJOR === '4' ? 'express4' : peer;
    symlinkSync(join(repo, 'node_modules', source), join(scratch, 'node_modules', peer), 'dir');
  }
  mkdirSync(join(scratch, 'data'));
  return { scratch, installed: join(scratch, 'node_modules/express-consent'), files: packed!.files.map((f) => f.path) };
}

after(() => {
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = null;
});
