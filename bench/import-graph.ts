/*
 * Prints the import graph of lib/ from the source (type-only imports marked) and then its import
 * cycles; exits with 1 when there is one. `npx tsx bench/import-graph.ts [dir]`.
 * test/architecture/import-cycles.test.ts holds the same check in the suite.
 */
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph, importTangles } from './lib/import-graph';

const root = process.argv[2] ?? fileURLToPath(new URL('../lib', import.meta.url));
const graph = importGraph(root);
let edges = 0;
for (const [file, imports] of graph) {
  console.log(file);
  for (const { to, typeOnly } of imports) console.log(`  → ${to}${typeOnly ? ' (types)' : ''}`);
  edges += imports.length;
}
const cycles = importCycles(graph);
const tangles = importTangles(graph);
console.log(`\n${String(graph.size)} files, ${String(edges)} imports, ${String(cycles.length)} import cycle${cycles.length === 1 ? '' : 's'}`);
cycles.forEach((cycle, i) => {
  const members = tangles[i] ?? [];
  console.log(`cycle: ${cycle.join(' → ')}`);
  if (members.length > cycle.length - 1) console.log(`  (one of the loops among ${String(members.length)} files: ${members.join(', ')})`);
});
if (cycles.length > 0) process.exitCode = 1;
