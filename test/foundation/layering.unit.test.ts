import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoPath } from '../../shared/paths';

/**
 * The tree is the data-flow diagram (STYLE habit 1), so imports only run down it: `cli/` composes the
 * parts and nothing imports it; `shared/` is below every part; test and bench code is imported by nobody
 * but tests and benches; and no module imports itself through others (a cycle makes load order matter).
 * Every non-test .ts file of the repository is read, so a new folder is covered without touching this.
 */
const ROOT = repoPath('.');
const SKIP = new Set(['node_modules', 'dist', '.stack', '.git']);
/** Only tests, benches and the CLI may import these; every other folder is a part (or shared/). */
const COMPOSERS = new Set(['cli', 'test', 'bench']);

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Every relative import, `import type` and re-exports included, resolved to a file of the repository. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(f, 'utf8'), true, true);
    const deps = importedFiles
      .filter((r) => r.fileName.startsWith('.'))
      .map((r) => path.resolve(path.dirname(f), r.fileName))
      .map((b) => [`${b}.ts`, path.join(b, 'index.ts'), b].find((c) => known.has(c)))
      .filter((d): d is string => d !== undefined);
    graph.set(f, deps);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself): Tarjan. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.map(rel).sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const rel = (f: string) => path.relative(ROOT, f).split(path.sep).join('/');
const top = (f: string) => rel(f).split('/')[0]!;

describe('layering: imports run down the tree', () => {
  const graph = importGraph(sources(ROOT));
  const edges = [...graph].flatMap(([from, deps]) => deps.map((to) => ({ from, to })));

  it('reads the whole tree (the walk finds the parts and their imports)', () => {
    const folders = new Set([...graph.keys()].map(top));
    for (const f of ['shared', 'cli', 'platforms', 'ingest', 'processors', 'api', 'models']) expect(folders).toContain(f);
    expect(edges.length).toBeGreaterThan(graph.size);
  });

  it('no part, and nothing in shared/, imports from cli/, test/ or bench/', () => {
    const up = edges
      .filter(({ from, to }) => !COMPOSERS.has(top(from)) && COMPOSERS.has(top(to)))
      .map(({ from, to }) => `${rel(from)} → ${rel(to)}`);
    expect(up).toEqual([]);
  });

  it('shared/ imports only shared/', () => {
    const up = edges.filter(({ from, to }) => top(from) === 'shared' && top(to) !== 'shared').map(({ from, to }) => `${rel(from)} → ${rel(to)}`);
    expect(up).toEqual([]);
  });

  it('the API and the gateway are separate processes: neither imports the other (what both use is in shared/)', () => {
    const across = edges
      .filter(({ from, to }) => (top(from) === 'gateway' && top(to) === 'api') || (top(from) === 'api' && top(to) === 'gateway'))
      .map(({ from, to }) => `${rel(from)} → ${rel(to)}`);
    expect(across).toEqual([]);
  });

  it('the parts import each other in one direction only (no cycle between folders)', () => {
    const parts = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const [a, b] = [top(from), top(to)];
      if (a === b || COMPOSERS.has(a) || a === 'shared' || b === 'shared') continue;
      if (!parts.has(a)) parts.set(a, new Set());
      parts.get(a)!.add(b);
    }
    const folderGraph = new Map([...parts].map(([a, bs]) => [path.join(ROOT, a), [...bs].map((b) => path.join(ROOT, b))]));
    for (const bs of [...folderGraph.values()]) for (const b of bs) if (!folderGraph.has(b)) folderGraph.set(b, []);
    expect(cycles(folderGraph)).toEqual([]);
  });

  it('there is no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('the cycle finder finds a cycle (a → b → c → a) and a self-import', () => {
    const g = new Map([
      ['/r/a.ts', ['/r/b.ts']],
      ['/r/b.ts', ['/r/c.ts']],
      ['/r/c.ts', ['/r/a.ts', '/r/d.ts']],
      ['/r/d.ts', []],
      ['/r/e.ts', ['/r/e.ts']],
    ]);
    expect(cycles(g).map((c) => c.length).sort()).toEqual([1, 3]);
  });
});
