// The doc-test runner: extracts the code blocks of the documentation marked runnable and runs
// each one as an integrator would, against the packed and installed package.
//
// A fenced block whose info string has the word `runnable` after its language is one:
//   ```ts runnable             TypeScript (ESM): type-checked with strict settings (and exact optional properties), then run
//   ```js runnable             JavaScript, ESM
//   ```cjs runnable            JavaScript, CommonJS
// Further words ask for what the snippet needs: `postgres` (a fresh PostgreSQL database in
// DATABASE_URL; the test is skipped without CONSENT_TEST_PG_URL) and `production`
// (NODE_ENV=production), and `server`: the snippet serves HTTP on the port in PORT until it is
// sent SIGTERM, then exits by itself (startServerSnippet runs it). Every snippet gets CONSENT_SECRET (48 random characters) and
// CONSENT_RECEIPTS_KEY (an Ed25519 private key, PEM) in its environment, and a directory of its
// own as the working directory. An ESM or TypeScript snippet passes when its top-level code
// (top-level await included) completes without throwing; its process is then stopped, so it may
// leave a server listening. A CommonJS snippet has no top-level await, so it passes when its
// process exits by itself with status 0.
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** One runnable code block. */
export interface Snippet {
  /** Where it is: `README.md:1034`. */
  where: string;
  language: 'ts' | 'js' | 'cjs';
  flags: string[];
  code: string;
}

const LANGUAGES: Record<string, Snippet['language']> = { ts: 'ts', typescript: 'ts', js: 'js', mjs: 'js', javascript: 'js', cjs: 'cjs' };
const FLAGS = new Set(['postgres', 'production', 'server']);

/**
 * The runnable blocks of a Markdown text. A block marked runnable in another language, or with
 * a word the runner does not know, is an error rather than a snippet that silently never runs.
 */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const words = open[2]!.trim().split(/\s+/);
    let end = i + 1;
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${String(fence.length)},}\\s*$`);
    while (end < lines.length && !closing.test(lines[end]!)) end += 1;
    if (words.includes('runnable')) {
      const where = `${file}:${String(i + 1)}`;
      const language = LANGUAGES[words[0]!.toLowerCase()];
      if (!language || words[1] !== 'runnable') throw new Error(`${where}: a runnable block is \`ts runnable\`, \`js runnable\` or \`cjs runnable\`, not \`${open[2]!.trim()}\``);
      const flags = words.slice(2);
      const unknown = flags.filter((flag) => !FLAGS.has(flag));
      if (unknown.length > 0) throw new Error(`${where}: unknown runnable flag ${unknown.join(', ')} (known: ${[...FLAGS].join(', ')})`);
      snippets.push({ where, language, flags, code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return snippets;
}

/** Type errors of a TypeScript snippet (an `.mts` file) against the installed declarations. */
export function typeErrors(file: string, typeRoots: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    // What \`tsc --init\` turns on (TypeScript 5.9 and later): an option read from the
    // environment (\`string | undefined\`) must still type-check.
    exactOptionalPropertyTypes: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [typeRoots],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const line = at ? `line ${String(at.line + 1)}: ` : '';
    return `${line}TS${String(d.code)} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/** The outcome of running one snippet. */
export interface SnippetRun {
  ok: boolean;
  /** Type errors, or the process's exit status and output when it failed. */
  report: string;
}

/** Only Node's own modules: stops an ESM snippet once its top-level code has completed. */
const ESM_RUNNER = `const [url] = process.argv.slice(2);
await import(url);
setImmediate(() => process.exit(0));
`;

/**
 * Writes `snippet` into `dir` as the file Node runs (`snippet.cjs`, or `snippet.mjs`, transpiled
 * from `snippet.mts` once it type-checks). Resolves to the file, or to the type errors.
 */
function prepare(snippet: Snippet, dir: string, typeRoots: string): { file: string } | { errors: string[] } {
  mkdirSync(dir, { recursive: true });
  if (snippet.language === 'cjs') {
    writeFileSync(join(dir, 'snippet.cjs'), snippet.code);
    return { file: 'snippet.cjs' };
  }
  let code = snippet.code;
  if (snippet.language === 'ts') {
    writeFileSync(join(dir, 'snippet.mts'), code);
    const errors = typeErrors(join(dir, 'snippet.mts'), typeRoots);
    if (errors.length > 0) return { errors };
    code = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  }
  writeFileSync(join(dir, 'snippet.mjs'), code);
  return { file: 'snippet.mjs' };
}

/**
 * Runs `snippet` in `dir` (a new directory inside an application that has the package and its
 * peers installed), with `env` added to the environment.
 */
export async function runSnippet(snippet: Snippet, dir: string, typeRoots: string, env: Record<string, string>, timeoutMs = 60_000): Promise<SnippetRun> {
  const prepared = prepare(snippet, dir, typeRoots);
  if ('errors' in prepared) return { ok: false, report: `${snippet.where} does not type-check:\n${prepared.errors.join('\n')}` };
  let command = [prepared.file];
  if (prepared.file === 'snippet.mjs') {
    writeFileSync(join(dir, 'run.mjs'), ESM_RUNNER);
    command = ['run.mjs', pathToFileURL(join(dir, 'snippet.mjs')).href];
  }
  return new Promise((resolve) => {
    execFile(process.execPath, command, { cwd: dir, env: { ...process.env, ...env }, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ ok: true, report: '' });
        return;
      }
      const how = error.killed ? `did not finish within ${String(timeoutMs)} ms` : `exited with ${String(error.code)}`;
      resolve({ ok: false, report: `${snippet.where} ${how}:\n${stdout}${stderr}` });
    });
  });
}

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => { resolve(false); });
  });
}

/** A `server` snippet that is listening. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Sends SIGTERM; resolves once the process exited (killed after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<SnippetRun>;
}

/**
 * Starts a `server` snippet with a free port in PORT and resolves once that port accepts
 * connections; rejects with the snippet's output when it does not type-check, exits first, or
 * does not listen within `timeoutMs`.
 */
export async function startServerSnippet(snippet: Snippet, dir: string, typeRoots: string, env: Record<string, string>, timeoutMs = 60_000): Promise<RunningServer> {
  const prepared = prepare(snippet, dir, typeRoots);
  if ('errors' in prepared) throw new Error(`${snippet.where} does not type-check:\n${prepared.errors.join('\n')}`);
  const port = await freePort();
  const child = spawn(process.execPath, [prepared.file], { cwd: dir, env: { ...process.env, ...env, PORT: String(port) } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => { resolve(code ?? signal); }));
  let exitCode: number | string | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (exitCode !== undefined) throw new Error(`${snippet.where} exited with ${String(exitCode)} before it listened:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${snippet.where} did not listen on PORT within ${String(timeoutMs)} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `http://127.0.0.1:${String(port)}`,
    async stop(stopMs = 10_000) {
      if (exitCode === undefined) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopMs);
      const code = await exited;
      clearTimeout(timer);
      if (code === 0) return { ok: true, report: '' };
      const how = code === 'SIGKILL' ? `did not exit within ${String(stopMs)} ms of SIGTERM` : `exited with ${String(code)}`;
      return { ok: false, report: `${snippet.where} ${how}:\n${output}` };
    },
  };
}

/** What every snippet finds in its environment. */
export function snippetEnv(snippet: Snippet, databaseUrl?: string): Record<string, string> {
  const env: Record<string, string> = {
    CONSENT_SECRET: randomBytes(36).toString('base64url'),
    CONSENT_RECEIPTS_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    NODE_ENV: snippet.flags.includes('production') ? 'production' : 'development',
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return env;
}
