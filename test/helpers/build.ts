import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));

let built: Promise<unknown> | null = null;

/**
 * Builds the package (`npm run build`, into dist/) once per test run. With
 * `CONSENT_TEST_PREBUILT=1` it trusts the dist/ already there instead: .ci/run sets it after its
 * own build step, so that test runs side by side never rewrite dist/ while another reads it.
 */
export function buildPackage(): Promise<unknown> {
  built ??= process.env.CONSENT_TEST_PREBUILT === '1' ? Promise.resolve() : exec('npm', ['run', 'build'], { cwd: repo });
  return built;
}
