import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { docFiles, repoRoot } from './doc-files';

function filesUnder(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(`${dir}/${entry.name}`) : [`${dir}/${entry.name}`]);
}

describe('what users read: README.md, docs/ and lib/', () => {
  it('never cites "SPEC", a document users do not have', () => {
    const files = [...docFiles(), ...filesUnder('lib')];
    expect(files).to.include.members(['README.md', 'lib/index.ts']);
    const citing = files.filter((file) => /\bSPEC\b/.test(readFileSync(join(repoRoot, file), 'utf8')));
    expect(citing).to.deep.equal([]);
  });
});
