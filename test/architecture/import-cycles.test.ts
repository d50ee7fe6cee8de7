import { expect } from 'chai';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph } from '../../bench/lib/import-graph';

const LIB = fileURLToPath(new URL('../../lib', import.meta.url));

/** A throwaway source tree: file name → text. */
function tree(files: Record<string, string>): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'import-graph-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return { root, remove: () => { rmSync(root, { recursive: true, force: true }); } };
}

describe('import graph of lib/', () => {
  const graph = importGraph(LIB);

  it('has no import cycle, type-only imports and re-exports included', () => {
    const cycles = importCycles(graph).map((cycle) => cycle.join(' → '));
    expect(cycles, `import cycles in lib/:\n${cycles.join('\n')}`).to.deep.equal([]);
  });

  it('leaves the engine to the modules that construct or serve it: nothing in core/ imports it', () => {
    const importers = [...graph].filter(([, edges]) => edges.some((edge) => edge.to === 'core/engine.ts')).map(([file]) => file);
    expect(importers.filter((file) => file.startsWith('core/'))).to.deep.equal([]);
    expect(importers).to.include('create-consent.ts');
  });

  it('is read from the source: every lib/ module is a node, and known imports are edges', () => {
    expect(graph.get('core/engine.ts')?.map((edge) => edge.to)).to.include.members(['core/timed-tracker.ts', 'core/commit.ts']);
    expect(graph.get('audit/fixed-json.ts')).to.deep.include({ to: 'audit/fields.ts', typeOnly: true });
    expect(graph.get('index.ts')?.some((edge) => edge.to === 'types.ts' && edge.typeOnly)).to.equal(true);
  });
});

describe('the import cycle check', () => {
  it('names a cycle closed by an `import type`, an `export … from` or an `import()` type', () => {
    const t = tree({
      'a.ts': "import type { B } from './b';\nexport interface A { b?: B }\n",
      'b.ts': "export { c } from './sub/c';\nexport interface B { n: number }\n",
      'sub/c.ts': "export const c = 1;\nexport type A = import('../a').A;\n",
      'lone.ts': "import { c } from './sub/c';\nexport const d = c;\n",
    });
    try {
      const graph = importGraph(t.root);
      expect(graph.get('a.ts')).to.deep.equal([{ to: 'b.ts', typeOnly: true }]);
      expect(graph.get('b.ts')).to.deep.equal([{ to: 'sub/c.ts', typeOnly: false }]);
      expect(importCycles(graph)).to.deep.equal([['a.ts', 'b.ts', 'sub/c.ts', 'a.ts']]);
    } finally {
      t.remove();
    }
  });

  it('finds a module that imports itself, and reports nothing for a graph without cycles', () => {
    const t = tree({ 'self.ts': "import type { X } from './self';\nexport type X = number;\n", 'x.ts': "import './self';\n" });
    try {
      expect(importCycles(importGraph(t.root))).to.deep.equal([['self.ts', 'self.ts']]);
    } finally {
      t.remove();
    }
    const clean = tree({ 'a.ts': "import { b } from './b';\nexport const a = b;\n", 'b.ts': 'export const b = 1;\n' });
    try {
      expect(importCycles(importGraph(clean.root))).to.deep.equal([]);
    } finally {
      clean.remove();
    }
  });
});
