/**
 * The layers of src/, checked on every import so that they stay true: `shared/` (the wire contract,
 * configuration, AWS plumbing, the gallery) imports nothing above it, `http/` (what the web tier and the monitor
 * share) only `shared/`, and no two folders import each other, directly or round a longer loop.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** What each lowest layer may import besides itself. */
const BELOW: Record<string, readonly string[]> = { shared: [], http: ['shared'] };

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}
const folderOf = (file: string) => relative(SRC, file).split('/')[0]!;
/** A file's folder two levels down (`web-tier/people`), or its top folder for a file at a top folder's root. */
const subFolderOf = (file: string) => {
  const parts = relative(SRC, file).split('/');
  return parts.slice(0, Math.min(2, parts.length - 1)).join('/');
};

/** Every import between two folders of src/, as `folder` names them: [from, to, the importing file]. */
const edgesBetween = (folder: (file: string) => string) =>
  sources(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].flatMap(([, spec]) => {
      const target = normalize(join(dirname(file), spec!));
      const [from, to] = [folder(file), folder(target)];
      return from === to ? [] : [[from, to, relative(SRC, file)] as const];
    }),
  );
const edges = edgesBetween(folderOf);

/** The loops of a graph of folders, each as "a → b → a". */
function loopsOf(pairs: readonly (readonly [string, string, string])[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const [from, to] of pairs) graph.set(from, (graph.get(from) ?? new Set()).add(to));
  const loops: string[] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    if (path.includes(node)) {
      loops.push([...path.slice(path.indexOf(node)), node].join(' → '));
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const start of graph.keys()) visit(start, []);
  return [...new Set(loops)];
}

describe('the layers of src/', () => {
  it('keep shared/ and http/ at the bottom', () => {
    const upward = edges.filter(([from, to]) => from in BELOW && !BELOW[from]!.includes(to));
    expect(upward.map(([, to, file]) => `${file} imports ${to}/`)).toEqual([]);
  });

  it('has no folders that import each other, directly or round a loop', () => {
    expect(loopsOf(edges)).toEqual([]);
  });

  it('has no such loops one level down either (web-tier/people, shared/config, app-tier/tasks)', () => {
    expect(loopsOf(edgesBetween(subFolderOf))).toEqual([]);
  });
});
