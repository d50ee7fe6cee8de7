import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import of a module: the file it names and whether only types cross it. */
export interface ImportEdge {
  to: string;
  typeOnly: boolean;
}

/** Files of a source tree (paths relative to its root, `/`-separated) and what each imports. */
export type ImportGraph = Map<string, ImportEdge[]>;

const toPosix = (path: string) => path.split(sep).join('/');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names: `x.ts`, `x/index.ts`, or `x.ts` written as `x.js`. */
function resolveSpecifier(from: string, specifier: string, files: Set<string>): string | null {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, `${base}.ts`, join(base, 'index.ts'), base.replace(/\.[cm]?js$/, '.ts')];
  return candidates.find((candidate) => files.has(candidate)) ?? null;
}

function typeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import './x'` runs the module.
  if (clause.phaseModifier === ts.SyntaxKind.TypeKeyword) return true;
  const bindings = clause.namedBindings;
  return clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 && bindings.elements.every((element) => element.isTypeOnly);
}

function typeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 &&
    clause.elements.every((element) => element.isTypeOnly);
}

/**
 * Every module specifier of a file, with whether it carries only types: `import` and
 * `import type`, `export … from`, `import x = require()`, `import()` calls and `import('…')`
 * types.
 */
function specifiersOf(file: string): Array<{ specifier: string; typeOnly: boolean }> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Array<{ specifier: string; typeOnly: boolean }> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: typeOnlyImport(node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: typeOnlyExport(node) });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)) {
      found.push({ specifier: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) found.push({ specifier: argument.text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The import graph of the TypeScript files under `root`, from their source. Only imports of
 * files inside `root` are edges (packages and `node:` modules are not); a file imported both
 * for types and for values has one value edge.
 */
export function importGraph(root: string): ImportGraph {
  const absolute = resolve(root);
  const files = new Set(sourceFiles(absolute));
  const graph: ImportGraph = new Map();
  for (const file of [...files].sort()) {
    const edges = new Map<string, boolean>();
    for (const { specifier, typeOnly } of specifiersOf(file)) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveSpecifier(file, specifier, files);
      if (target === null) throw new Error(`${relative(absolute, file)}: cannot resolve "${specifier}"`);
      const to = toPosix(relative(absolute, target));
      edges.set(to, (edges.get(to) ?? true) && typeOnly);
    }
    graph.set(toPosix(relative(absolute, file)), [...edges].sort(([a], [b]) => a.localeCompare(b)).map(([to, typeOnly]) => ({ to, typeOnly })));
  }
  return graph;
}

/**
 * The tangles of a graph: its strongly connected components (Tarjan) of more than one file, or
 * of one file importing itself. Every file of a tangle reaches every other one.
 */
export function importTangles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const result: string[][] = [];
  let counter = 0;
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const { to } of graph.get(node) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node) as number, low.get(to) as number));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) as number, index.get(to) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (;;) {
      const member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    const selfLoop = (graph.get(node) ?? []).some((edge) => edge.to === node);
    if (component.length > 1 || selfLoop) result.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return result;
}

/** A shortest path of imports from `start` back to itself inside `members`. */
function loopThrough(graph: ImportGraph, start: string, members: Set<string>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const { to } of graph.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at) as string) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/**
 * The import cycles of a graph, one per tangle of files that import each other, each named as
 * a path `a.ts → b.ts → a.ts` (a shortest loop through the tangle's first file); types count.
 */
export function importCycles(graph: ImportGraph): string[][] {
  return importTangles(graph).map((members) => loopThrough(graph, members[0] as string, new Set(members)));
}
