import { describe, expect, it } from 'vitest';
import { EMBEDDING_DIMENSIONS, l2Normalize } from '../../src/app-tier/recognition/embedder.js';
import { Gallery } from '../../src/app-tier/recognition/gallery.js';

const SHA = 'a'.repeat(64);
function unit(seed: number): Float32Array {
  const v = new Float32Array(EMBEDDING_DIMENSIONS);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(seed * 12.9898 + i * 78.233);
  return l2Normalize(v);
}

describe('Gallery', () => {
  const people = new Map([
    ['Paul', [unit(1), unit(2)]],
    ['Emily', [unit(3)]],
  ]);
  const gallery = Gallery.fromPeople(people, SHA);

  it.each([
    [1, 'Paul'],
    [2, 'Paul'],
    [3, 'Emily'],
  ])('matches the embedding of seed %i to %s with similarity 1', (seed, label) => {
    const match = gallery.match(unit(seed))!;
    expect(match.label).toBe(label);
    expect(match.similarity).toBeCloseTo(1, 5);
  });

  it('matches a noisy embedding to its nearest person', () => {
    const noisy = unit(3).map((x, i) => x + 0.01 * Math.cos(i));
    expect(gallery.match(l2Normalize(noisy))!.label).toBe('Emily');
  });

  it('has no match when empty', () => {
    expect(Gallery.fromPeople(new Map(), SHA).match(unit(1))).toBeUndefined();
  });

  it('survives a round trip through its stored JSON form', () => {
    const again = Gallery.parse(JSON.parse(JSON.stringify(gallery.toStored())));
    expect(again.labels).toEqual(['Paul', 'Paul', 'Emily']);
    expect(again.match(unit(2))!.similarity).toBeCloseTo(1, 5);
  });

  it('refuses a stored gallery that does not match its schema', () => {
    const stored = gallery.toStored();
    expect(() => Gallery.parse({ ...stored, schemaVersion: 99 })).toThrow();
    expect(() => Gallery.parse({ ...stored, people: [{ name: 'X', embeddings: ['AAAA'] }] })).toThrow(/bytes/);
  });
});
