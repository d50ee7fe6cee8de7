import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { tempSqliteFile } from '../helpers/databases';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Resolves with the first URL the process prints; rejects if it exits first. */
function printedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1] as string);
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => { reject(new Error(`npm start exited with ${String(code)} before printing a URL:\n${output}`)); });
  });
}

describe('npm start, as the README says', function () {
  this.timeout(60_000);
  let child: ChildProcess | null = null;
  const db = tempSqliteFile();

  after(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
    db.cleanup();
  });

  it('serves the example on the printed URL, with PORT=0 and CONSENT_DB honoured', async () => {
    // Its own process group, so that the whole tree (npm, node) can be stopped at once.
    child = spawn('npm', ['start'], { cwd: repo, detached: true, env: { ...process.env, PORT: '0', CONSENT_DB: db.filename }, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await printedUrl(child);
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(url).not.to.match(/:3000\//);

    const home = await fetch(url);
    expect(home.status).to.equal(200);
    expect(await home.text()).to.contain('<h1>Bookshelf</h1>');
    const signUp = await (await fetch(new URL('/sign-up', url))).text();
    expect(signUp).to.contain('name="consent[terms]"');
    const requirements = (await (await fetch(new URL('/consent/requirements', url))).json()) as { requirements: Array<{ id: string }> };
    expect(requirements.requirements.map((r) => r.id)).to.deep.equal(['terms', 'newsletter', 'digest', 'analytics', 'partners.offers']);
    expect(existsSync(db.filename)).to.equal(true);

    // The first thing a new person does asks for a confirmation: its email links to the printed
    // address (the consent router has handled no request yet).
    let cookie = '';
    const browse = async (path: string, form?: Record<string, string>): Promise<string> => {
      const res = await fetch(new URL(path, url), {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: { cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin } : {}) },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
      });
      for (const set of res.headers.getSetCookie()) cookie = (set.split(';')[0] as string);
      expect(res.status, `${path}: ${String(res.status)}`).to.be.oneOf([200, 303]);
      return res.text();
    };
    const csrf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const token = csrf(await browse('/sign-up'));
    await browse('/sign-up', { _csrf: token, email: 'first@example.com', password: 'long enough password', 'consent[terms]': 'on' });
    await browse('/preferences/digest', { _csrf: csrf(await browse('/preferences')), decision: 'granted', version: '1' });
    const link = /<a href="([^"]+)">Confirm my address<\/a>/.exec(await browse('/dev/mailbox'))?.[1] ?? '';
    expect(link.startsWith(new URL('/consent/confirm/', url).href), link).to.equal(true);
    expect((await fetch(link)).status).to.equal(200);
  });

  it('explains a port that is taken, suggests PORT=0, and exits without a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const taken = spawn('npm', ['start'], { cwd: repo, env: { ...process.env, PORT: String(port), CONSENT_DB: db.filename }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      taken.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      taken.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise((resolve) => taken.once('exit', resolve));
      expect(code).to.equal(1);
      expect(output).to.contain(`Port ${String(port)} is already in use`).and.contain('PORT=0 npm start');
      expect(output).not.to.match(/EADDRINUSE|\n\s+at /);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
