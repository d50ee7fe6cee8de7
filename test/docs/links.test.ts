import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { docFiles, repoRoot } from './doc-files';
import { anchorsOf, brokenLinks, headingAnchor } from './links';

describe('links in README.md and docs/', () => {
  for (const file of docFiles()) {
    it(`${file}: every relative link and anchor resolves`, () => {
      expect(brokenLinks(repoRoot, file)).to.deep.equal([]);
    });
  }
});

describe('the link check', () => {
  it('derives the anchors GitHub gives headings', () => {
    expect(headingAnchor('Production on PostgreSQL')).to.equal('production-on-postgresql');
    expect(headingAnchor('`consent.verify({ subjectId? })`')).to.equal('consentverify-subjectid-');
    expect(headingAnchor('Network details (`network` option)')).to.equal('network-details-network-option');
    expect(headingAnchor('See [the guide](docs/x.md) — now')).to.equal('see-the-guide--now');
    expect([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n<a id="custom"></a>\n### A b_c')]).to.deep.equal(['a', 'a-1', 'custom', 'a-b_c']);
  });

  it('names each link that does not resolve, and ignores links in code and to other sites', () => {
    const root = mkdtempSync(join(tmpdir(), 'express-consent-links-'));
    try {
      mkdirSync(join(root, 'docs'));
      writeFileSync(join(root, 'docs/guide.md'), '# Guide\n\n## Set up\n');
      writeFileSync(join(root, 'README.md'), [
        '# Title', '',
        '[ok](docs/guide.md) [ok](docs/guide.md#set-up) [ok](#title) [ok](https://example.com/x.md#nope) [ok](docs/)',
        '[missing](docs/nope.md) and ![img](docs/nope.png)',
        '[bad anchor](docs/guide.md#setup) [bad local](#nothing)',
        '`[in a code span](nope.md)`', '```', '[in a block](nope.md)', '```',
        '[ref]: docs/gone.md',
      ].join('\n'));
      expect(brokenLinks(root, 'README.md')).to.deep.equal([
        'README.md:4 docs/nope.md (no such file)',
        'README.md:4 docs/nope.png (no such file)',
        'README.md:5 docs/guide.md#setup (no heading or anchor "setup" in docs/guide.md)',
        'README.md:5 #nothing (no heading or anchor "nothing" in README.md)',
        'README.md:10 docs/gone.md (no such file)',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
