import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import knexFactory from 'knex';
import { createConsent } from '../../lib/index';
import { progress } from '../../lib/cli/progress';
import { buildCli, CLI, runCli, SECRET } from '../helpers/cli';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';

const exec = promisify(execFile);

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, write: (chunk: string) => written.push(chunk) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('the command line progress bar', () => {
  it('draws on a terminal and ends with the full count', () => {
    const { stream, written } = fakeStream(true);
    const bar = progress('exporting', 4, stream);
    bar.add(2);
    bar.add(2);
    bar.done();
    expect(written.join('')).to.include('exporting [').and.to.include('] 4/4');
    expect(written.at(-1)).to.equal('\n');
  });

  it('writes nothing when stderr is not a terminal', () => {
    const { stream, written } = fakeStream(false);
    const bar = progress('exporting', 4, stream);
    bar.add(4);
    bar.done();
    expect(written).to.deep.equal([]);
  });
});

describe('the command line over more than one page of events', () => {
  const file = tempSqliteFile();
  const subjects = 220;
  const ids = ['a', 'b', 'c', 'd', 'e'];
  /** Every event's id as the library shows it, in insertion order. */
  let shown: string[];

  before(async function () {
    this.timeout(300_000);
    await buildCli();
    const knex = knexFactory(sqliteKnexConfig(file.filename));
    const consent = createConsent({ knex, secret: SECRET, logger: { warn() {}, error() {} } });
    consent.register(ids.map((id) => ({ id, title: `Purpose ${id}`, description: `What ${id} is for.` })));
    await consent.ready();
    for (let i = 0; i < subjects; i += 1) {
      await consent.record(`user-${String(i)}`, Object.fromEntries(ids.map((id, j) => [id, (i + j) % 3 === 0 ? 'denied' : 'granted'])));
    }
    const stored = await knex('consent_events').orderBy('id').select('id');
    shown = stored.map((row: { id: unknown }) => consent.engine.eventIds.encode(String(row.id)));
    await consent.close();
    await knex.destroy();
  });

  after(() => { file.cleanup(); });

  it('exports every event once, in id order, across keyset pages', async () => {
    const run = await runCli(['--url', file.filename, 'export', '--format', 'ndjson']);
    expect(run).to.include({ code: 0, stderr: '' });
    const events = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string });
    expect(events).to.have.length(subjects * ids.length);
    expect(events.map((e) => e.id)).to.deep.equal(shown);
    expect(new Set(shown).size).to.equal(shown.length);
  });

  it('verifies and counts them all', async () => {
    const verify = await runCli(['--url', file.filename, 'verify']);
    expect(verify.code).to.equal(0);
    expect(verify.stdout).to.include(`ok: ${String(subjects * ids.length)} events checked`);
    const stats = JSON.parse((await runCli(['--url', file.filename, 'stats', '--json'])).stdout) as {
      requirements: Record<string, { states: { denied: number; granted: number } }>;
    };
    const a = stats.requirements.a!.states;
    expect(a.denied + a.granted).to.equal(subjects);
    expect(a.denied).to.equal(Math.ceil(subjects / 3));
  });

  it('stops with one line on stderr and exit 3 when the reader of its output goes away', async () => {
    const child = spawn(CLI, ['--url', file.filename, 'export', '--format', 'ndjson'], { env: { ...process.env, CONSENT_SECRET: SECRET } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => { stderr += chunk; });
    // Like `| head -c 1`: the first bytes arrive, then the pipe closes with most of the export unwritten.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (exit) => { resolve(exit); }));
    expect({ code, stderr }).to.deep.equal({ code: 3, stderr: 'express-consent: the output closed before the command finished (write EPIPE)\n' });
  });

  it('shows a progress bar when stderr is a terminal', async () => {
    // script(1) runs the binary on a pseudo-terminal; stdout goes to /dev/null, so only the bar shows.
    const command = `CONSENT_SECRET=${SECRET} ${CLI} --url ${file.filename} export > /dev/null`;
    const { stdout } = await exec('script', ['-qec', command, '/dev/null'], { timeout: 60_000 });
    expect(stdout).to.include(`exporting [${'#'.repeat(30)}] ${String(subjects * ids.length)}/${String(subjects * ids.length)}`);
  });
});
