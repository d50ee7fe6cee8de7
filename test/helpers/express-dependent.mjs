// Prints the test files whose outcome can depend on the Express major version, one per line.
// .ci/run runs only these a second time with Express 4 installed as `express`.
//
// A test file depends on Express when it, or any file it reaches through relative paths in
// test/ or examples/ (imports, and scripts it starts: `new URL('./fixtures/app.ts',
// import.meta.url)`), names the module `express` or `supertest`. Every file under test/examples/
// and test/docs/ does too: they run the example app and the documentation's snippets, which
// are applications. lib/ is not followed: every test reaches it, and it loads Express only for
// its router, which the files that serve HTTP exercise; nor is bench/, whose smoke test checks
// that the benchmark scripts run, not how Express behaves. The decision is read from the
// sources, so a new test file is classified without a list to keep up to date.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FOLLOWED = ['test', 'examples'].map((dir) => join(repo, dir) + '/');
const EXPRESS = /(?:from\s*|require\(\s*|import\(\s*)['"](?:express|supertest)['"]/;
const RELATIVE = /['"](\.{1,2}\/[^'"\s]+)['"]/g;
const EXTENSIONS = ['', '.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '/index.ts'];

function resolveLocal(from, specifier) {
  const base = resolve(dirname(from), specifier);
  for (const ext of EXTENSIONS) {
    const candidate = base + ext;
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Whether `file` reaches a module naming Express or supertest (memoised across calls). */
function reachesExpress(file, memo, visiting = new Set()) {
  if (memo.has(file)) return memo.get(file);
  if (visiting.has(file)) return false;
  visiting.add(file);
  const source = readFileSync(file, 'utf8');
  let found = EXPRESS.test(source);
  for (const match of source.matchAll(RELATIVE)) {
    if (found) break;
    const target = resolveLocal(file, match[1]);
    if (target && FOLLOWED.some((dir) => target.startsWith(dir))) found = reachesExpress(target, memo, visiting);
  }
  visiting.delete(file);
  memo.set(file, found);
  return found;
}

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The test files (relative to the repository, sorted) whose outcome can depend on Express. */
export function expressDependentTests() {
  const memo = new Map();
  const applications = ['test/examples', 'test/docs'].map((dir) => join(repo, dir) + '/');
  return testFiles(join(repo, 'test'))
    .filter((file) => applications.some((dir) => file.startsWith(dir)) || reachesExpress(file, memo))
    .map((file) => relative(repo, file))
    .sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${expressDependentTests().join('\n')}\n`);
}
