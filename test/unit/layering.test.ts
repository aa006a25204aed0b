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

/** Every import between two top folders of src/: [from, to, the importing file]. */
const edges = sources(SRC).flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].flatMap(([, spec]) => {
    const target = normalize(join(dirname(file), spec!));
    const [from, to] = [folderOf(file), folderOf(target)];
    return from === to ? [] : [[from, to, relative(SRC, file)] as const];
  }),
);

describe('the layers of src/', () => {
  it('keep shared/ and http/ at the bottom', () => {
    const upward = edges.filter(([from, to]) => from in BELOW && !BELOW[from]!.includes(to));
    expect(upward.map(([, to, file]) => `${file} imports ${to}/`)).toEqual([]);
  });

  it('has no folders that import each other, directly or round a loop', () => {
    const graph = new Map<string, Set<string>>();
    for (const [from, to] of edges) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    const loops: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) {
        loops.push([...path.slice(path.indexOf(node)), node].join(' → '));
        return;
      }
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const start of graph.keys()) visit(start, []);
    expect([...new Set(loops)]).toEqual([]);
  });
});
