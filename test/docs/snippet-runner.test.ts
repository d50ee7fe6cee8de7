import { join } from 'node:path';
import { expect } from 'chai';
import { packedApp, type PackedApp } from '../packaging/packed';
import { extractSnippets, runSnippet, snippetEnv, type Snippet } from './snippets';

const FENCE = '```';

describe('the doc-test runner', function () {
  this.timeout(180_000);

  describe('finding runnable blocks', () => {
    it('takes the blocks marked runnable, with their language, flags and line, and nothing else', () => {
      const markdown = [
        '# Title', '', `${FENCE}ts`, 'notRun();', FENCE, '',
        `${FENCE}ts runnable postgres production`, 'const a: number = 1;', FENCE,
        `~~~cjs runnable`, "require('x');", `${FENCE} not a fence end`, '~~~',
        `${FENCE}sh`, 'npm test', FENCE, `${FENCE}js runnable`, 'await 1;', '', FENCE,
      ].join('\n');
      expect(extractSnippets(markdown, 'x.md')).to.deep.equal([
        { where: 'x.md:7', language: 'ts', flags: ['postgres', 'production'], code: 'const a: number = 1;' },
        { where: 'x.md:10', language: 'cjs', flags: [], code: `require('x');\n${FENCE} not a fence end` },
        { where: 'x.md:17', language: 'js', flags: [], code: 'await 1;\n' },
      ]);
    });

    it('refuses a runnable block it could not run, rather than never running it', () => {
      expect(() => extractSnippets(`${FENCE}python runnable\nx\n${FENCE}`, 'a.md')).to.throw(/a\.md:1: a runnable block is `ts runnable`/);
      expect(() => extractSnippets(`${FENCE}runnable ts\nx\n${FENCE}`, 'a.md')).to.throw(/a\.md:1/);
      expect(() => extractSnippets(`${FENCE}ts runnable mysql\nx\n${FENCE}`, 'b.md')).to.throw(/b\.md:1: unknown runnable flag mysql/);
    });
  });

  describe('running them against the packed package', () => {
    let app: PackedApp;
    let count = 0;
    const run = (language: Snippet['language'], code: string, flags: string[] = []) => {
      const snippet: Snippet = { where: `fixture.md:${String(++count)}`, language, flags, code };
      return runSnippet(snippet, join(app.scratch, `runner-${String(count)}`), join(app.scratch, 'node_modules/@types'), snippetEnv(snippet), 30_000);
    };
    const USE = `consent.register({ id: 'a', title: 'A', description: 'A' });
await consent.ready();
await consent.record('user-1', { a: 'granted' });
if (!(await consent.isAllowed('user-1', 'a'))) throw new Error('not allowed');
await consent.close();`;

    before(async () => {
      app = await packedApp();
    });

    it('passes ESM, TypeScript and CommonJS snippets that use the package, with a server left listening', async () => {
      const esm = await run('js', `import { createConsent } from 'express-consent';
import express from 'express';
const consent = createConsent({ secret: process.env.CONSENT_SECRET });
${USE}
express().listen(0);`);
      expect(esm, esm.report).to.deep.equal({ ok: true, report: '' });
      const typed = await run('ts', `import { createConsent, type Consent } from 'express-consent';
const consent: Consent = createConsent({ secret: process.env.CONSENT_SECRET, receipts: { privateKey: process.env.CONSENT_RECEIPTS_KEY, controller: 'ACME' } });
${USE}`, ['production']);
      expect(typed, typed.report).to.deep.equal({ ok: true, report: '' });
      const cjs = await run('cjs', `const { createConsent } = require('express-consent');
const consent = createConsent({ secret: process.env.CONSENT_SECRET });
(async () => {
${USE}
})().catch((error) => { console.error(error); process.exit(1); });`);
      expect(cjs, cjs.report).to.deep.equal({ ok: true, report: '' });
    });

    it('fails a snippet that throws, in each module system, naming where it is and what it printed', async () => {
      const esm = await run('js', "import { createConsent } from 'express-consent';\nawait createConsent({ tablePrefx: 'x_' }).ready();");
      expect(esm.ok).to.equal(false);
      expect(esm.report).to.match(/^fixture\.md:\d+ exited with 1:/).and.to.include('tablePrefix');
      const cjs = await run('cjs', "require('express-consent').createConsent({ tablePrefx: 'x_' });");
      expect(cjs.ok).to.equal(false);
      expect(cjs.report).to.include('invalid_option');
      const rejected = await run('cjs', "Promise.reject(new Error('late'));");
      expect(rejected.ok).to.equal(false);
      expect(rejected.report).to.include('late');
    });

    it('fails a production snippet that leaves out the receipts key', async () => {
      const result = await run('js', "import { createConsent } from 'express-consent';\ncreateConsent({ secret: process.env.CONSENT_SECRET });", ['production']);
      expect(result.ok).to.equal(false);
      expect(result.report).to.include('needs the "receipts" option');
    });

    it('fails a TypeScript snippet that does not type-check, without running it', async () => {
      const result = await run('ts', `import { createConsent } from 'express-consent';
const consent = createConsent({ subject: (req) => req.user?.id });
console.log('ran');`);
      expect(result.ok).to.equal(false);
      expect(result.report).to.match(/does not type-check:\nline 2: TS2339 Property 'user' does not exist/);
      expect(result.report).not.to.include('ran');
    });

    it('fails a CommonJS snippet that never finishes', async () => {
      const snippet: Snippet = { where: 'fixture.md:99', language: 'cjs', flags: [], code: 'setInterval(() => {}, 1000);' };
      const result = await runSnippet(snippet, join(app.scratch, 'runner-forever'), join(app.scratch, 'node_modules/@types'), snippetEnv(snippet), 2000);
      expect(result).to.deep.equal({ ok: false, report: 'fixture.md:99 did not finish within 2000 ms:\n' });
    });
  });
});
