/**
 * The pure parts of collections: the manifest's edits, what a reader must read to catch up, which segments a
 * compaction merges, and the int8 vectors.
 */
import { describe, expect, it } from 'vitest';
import { l2Normalize } from '../../src/app-tier/recognition/embedder.js';
import {
  appendEntries,
  catchUp,
  compactionRun,
  emptyManifest,
  replaceRun,
  validateCollectionName,
  type Manifest,
  type ManifestEntry,
} from '../../src/shared/collections/manifest.js';
import {
  concatVectors,
  decodeVectors,
  dequantizeRow,
  encodeVectors,
  quantize,
  selectRows,
} from '../../src/shared/collections/vectors.js';
import { AppError } from '../../src/shared/wire/errors.js';
import { EMBEDDING_DIMENSIONS } from '../../src/shared/collections/names-and-faces.js';

const faces = (id: string, count = 1): ManifestEntry => ({ id, kind: 'faces', count, bytes: count * 600 });
const tomb = (id: string, count = 1): ManifestEntry => ({ id, kind: 'tombstones', count, bytes: 40 });
const manifestOf = (...entries: ManifestEntry[]): Manifest =>
  appendEntries(emptyManifest('c', 'a'.repeat(64)), entries, { faces: 0, people: 0 });

describe('catchUp: what a reader holding some entries must read', () => {
  const merged = (id: string, from: string[], kind: 'faces' | 'tombstones' = 'faces') => ({
    ...(kind === 'faces' ? faces(id, 3) : tomb(id)),
    compactedFrom: from,
  });
  it.each([
    ['nothing held: everything', [], manifestOf(faces('a'), faces('b')), ['a', 'b']],
    ['up to date: nothing', ['a', 'b'], manifestOf(faces('a'), faces('b')), []],
    ['appended: only the new', ['a'], manifestOf(faces('a'), tomb('t'), faces('b')), ['t', 'b']],
    [
      'a compaction of what it holds: nothing',
      ['a', 'b', 'c'],
      manifestOf(faces('a'), merged('t2', ['b', 'c'], 'tombstones'), merged('m', ['b', 'c'])),
      [],
    ],
    [
      'a compaction, then more: only the more',
      ['a', 'b', 'c'],
      manifestOf(merged('m', ['a', 'b', 'c']), faces('d')),
      ['d'],
    ],
  ] as const)('%s', (_, held, manifest, expected) => {
    const plan = catchUp(held, manifest);
    expect(plan.kind).toBe('append');
    if (plan.kind === 'append') expect([plan.entries.map((e) => e.id), plan.drop]).toEqual([expected, []]);
  });

  it('drops what it holds of a compaction of entries it partly never read, and reads the merge', () => {
    // Held a, b; c arrived, and a compaction merged b and c before the reader saw c.
    const manifest = manifestOf(faces('a'), merged('t', ['b', 'c'], 'tombstones'), merged('m', ['b', 'c']), faces('d'));
    const plan = catchUp(['a', 'b'], manifest);
    expect(plan).toEqual({
      kind: 'append',
      drop: ['b'],
      entries: manifest.entries.slice(1),
      ids: ['a', 't', 'm', 'd'],
    });
  });

  it.each([
    ['an entry it holds is gone (the collection replaced)', ['a', 'x'], manifestOf(faces('a'), faces('b'))],
    [
      'a compaction of entries of which it read none, before one it holds',
      ['x'],
      manifestOf(merged('m', ['a', 'b']), faces('x')),
    ],
    ['a new entry before one it holds', ['b'], manifestOf(faces('a'), faces('b'))],
  ] as const)('reloads when %s', (_, held, manifest) => {
    expect(catchUp(held, manifest)).toEqual({ kind: 'reload' });
  });
});

describe('compaction', () => {
  const options = { smallCount: 100, minEntries: 3 };

  it('merges the run of small entries at the end once there are enough', () => {
    expect(compactionRun(manifestOf(faces('big', 500), faces('a'), tomb('t')), options)).toBeUndefined();
    expect(compactionRun(manifestOf(faces('big', 500), faces('a'), tomb('t'), faces('b')), options)).toEqual({
      from: 1,
      ids: ['a', 't', 'b'],
    });
  });

  it('replaces the run, marking what it came from, as the next version', () => {
    const before = manifestOf(faces('big', 500), faces('a'), tomb('t'), faces('b'));
    const after = replaceRun(before, ['a', 't', 'b'], [tomb('T'), faces('M', 2)])!;
    expect(after.version).toBe(before.version + 1);
    expect(after.entries.map((e) => [e.id, e.compactedFrom])).toEqual([
      ['big', undefined],
      ['T', ['a', 't', 'b']],
      ['M', ['a', 't', 'b']],
    ]);
  });

  it('keeps entries that arrived during the merge, and drops a merge whose run is gone', () => {
    const during = manifestOf(faces('a'), faces('b'), faces('c'), faces('new'));
    expect(replaceRun(during, ['a', 'b', 'c'], [faces('M', 3)])!.entries.map((e) => e.id)).toEqual(['M', 'new']);
    expect(replaceRun(manifestOf(faces('a'), faces('c')), ['a', 'b', 'c'], [faces('M')])).toBeUndefined();
    expect(replaceRun(manifestOf(faces('z')), ['a'], [faces('M')])).toBeUndefined();
  });
});

describe('collection names', () => {
  it.each(['default', 'staff-2026', 'Class_A.b', 'x'])('accepts %j', (name) =>
    expect(validateCollectionName(name)).toBe(name),
  );
  it.each(['', '-x', '.hidden', 'a/b', '..', 'x'.repeat(65), 'ünïcode', 'a b', 'a\n'])('refuses %j', (name) => {
    const err = (() => {
      try {
        validateCollectionName(name);
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.code).toBe('INVALID_COLLECTION');
    expect(err?.status).toBe(400);
  });
});

describe('int8 vectors', () => {
  const random = (seed: number) => {
    let state = seed;
    const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    return l2Normalize(Float32Array.from({ length: EMBEDDING_DIMENSIONS }, () => next() - 0.5));
  };
  const rows = (seeds: number[]) => {
    const out = new Float32Array(seeds.length * EMBEDDING_DIMENSIONS);
    seeds.forEach((s, i) => out.set(random(s), i * EMBEDDING_DIMENSIONS));
    return out;
  };

  it('round-trips through their stored form', () => {
    const q = quantize(rows([1, 2, 3]));
    const back = decodeVectors(encodeVectors(q));
    expect(back.count).toBe(3);
    expect([...back.codes]).toEqual([...q.codes]);
    expect([...back.scales]).toEqual([...q.scales]);
  });

  it('change a cosine similarity by less than 0.002', () => {
    const q = quantize(rows([1, 2]));
    const [a, b] = [random(1), random(2)];
    const exact = a.reduce((s, x, i) => s + x * b[i]!, 0);
    const [qa, qb] = [dequantizeRow(q, 0), dequantizeRow(q, 1)];
    const approx = qa.reduce((s, x, i) => s + x * qb[i]!, 0);
    expect(Math.abs(approx - exact)).toBeLessThan(0.002);
    expect(qa.reduce((s, x, i) => s + x * a[i]!, 0)).toBeGreaterThan(0.999);
  });

  it('select and join rows in order', () => {
    const q = quantize(rows([1, 2, 3]));
    const picked = concatVectors([selectRows(q, (r) => r !== 1), selectRows(q, (r) => r === 1)]);
    expect(picked.count).toBe(3);
    expect([...picked.codes.subarray(2 * EMBEDDING_DIMENSIONS)]).toEqual([
      ...q.codes.subarray(EMBEDDING_DIMENSIONS, 2 * EMBEDDING_DIMENSIONS),
    ]);
  });

  it('refuse bytes that are not vectors of this size', () => {
    const bytes = encodeVectors(quantize(rows([1])));
    expect(() => decodeVectors(bytes.subarray(0, 100))).toThrow(/expected/);
    expect(() => decodeVectors(new Uint8Array(20))).toThrow(/FFV1/);
    expect(() => decodeVectors(bytes, 128)).toThrow(/512 dimensions, expected 128/);
  });
});
