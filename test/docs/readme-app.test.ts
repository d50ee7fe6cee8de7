// A new application written from the README alone: each form of its complete app (TypeScript,
// JavaScript ESM, CommonJS) runs against the packed package, refuses its guarded route until
// the person grants the requirement through the router, then lets it through, and stops on
// SIGTERM.
import { join } from 'node:path';
import { expect } from 'chai';
import { packedApp, type PackedApp } from '../packaging/packed';
import { readDoc } from './doc-files';
import { extractSnippets, snippetEnv, startServerSnippet } from './snippets';

const apps = extractSnippets(readDoc('README.md'), 'README.md').filter((snippet) => snippet.flags.includes('server'));

describe("the README's complete app", function () {
  this.timeout(180_000);
  let packed: PackedApp;

  before(async () => {
    packed = await packedApp();
  });

  it('is given in TypeScript, JavaScript (ESM) and CommonJS', () => {
    expect(apps.map((snippet) => snippet.language)).to.deep.equal(['ts', 'js', 'cjs']);
  });

  apps.forEach((snippet, index) => {
    it(`${snippet.where} (${snippet.language}): 403 on the guarded route, a grant through the router, then 200`, async () => {
      const server = await startServerSnippet(snippet, join(packed.scratch, `readme-app-${String(index)}`), join(packed.scratch, 'node_modules/@types'), snippetEnv(snippet));
      try {
        const before = await fetch(`${server.url}/insights`);
        expect(before.status).to.equal(403);
        expect(before.headers.get('content-type')).to.match(/^application\/problem\+json/);
        const refusal = (await before.json()) as { code: string; missing: Array<{ id: string; state: string }> };
        expect(refusal.code).to.equal('consent_required');
        expect(refusal.missing.map((m) => [m.id, m.state])).to.deep.equal([['analytics', 'unset']]);

        const grant = await fetch(`${server.url}/consent/me/analytics`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ decision: 'granted' }),
        });
        expect(grant.status).to.equal(200);
        expect(((await grant.json()) as { state: string }).state).to.equal('granted');

        const after = await fetch(`${server.url}/insights`);
        expect(after.status).to.equal(200);
        expect(await after.text()).to.equal('Seen only with consent to usage analytics.');
      } finally {
        const stopped = await server.stop();
        expect(stopped.ok, stopped.report).to.equal(true);
      }
    });
  });
});
