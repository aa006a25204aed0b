/** The pure steps of enrollment: the one-face rule, which photos are kept, and a bulk enrollment's people. */
import { describe, expect, it } from 'vitest';
import { theOneFace, type Embedding } from '../../src/enrollment/one-face-rule.js';
import { BulkEnrollment, facesOf, keptAndRepeated, type EmbeddedPhoto } from '../../src/enrollment/plan.js';
import { AppError } from '../../src/shared/errors.js';
import { faceIdOf } from '../../src/shared/gallery.js';

const vector = new Float32Array(512).fill(0.5);
const one: Embedding = { kind: 'faces', facesFound: 1, face: { embedding: vector, box: [1, 2, 3, 4], score: 0.9 } };
const bytes = (n: number) => new Uint8Array([n, n + 1, n + 2]);
const photo = (file: string, n: number, embedding: Embedding = one): EmbeddedPhoto => ({
  file,
  bytes: bytes(n),
  embedding,
  sourceKey: `enrollment/${file}`,
});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return (err as AppError).code;
  }
}

describe('the one-face rule', () => {
  it.each([
    [{ kind: 'faces', facesFound: 0 } as Embedding, 'ENROLL_NO_FACE'],
    [{ kind: 'faces', facesFound: 3, face: { embedding: vector } } as Embedding, 'ENROLL_MANY_FACES'],
    [{ kind: 'unreadable' } as Embedding, 'INVALID_IMAGE'],
    [one, undefined],
  ])('%j → %s', (embedding, code) => {
    expect(codeOf(() => theOneFace('a.jpg', embedding))).toBe(code);
  });

  it('names the photo and the count in its sentence', () => {
    const message = (() => {
      try {
        theOneFace('group.jpg', { kind: 'faces', facesFound: 4, face: { embedding: vector } });
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toBe(
      '"group.jpg" shows 4 faces: enroll photos that show only this person, so the right face is enrolled.',
    );
  });
});

describe('facesOf', () => {
  it('makes one face per photo, keyed by its bytes, with where it is kept', () => {
    const faces = facesOf([photo('a.jpg', 1), photo('b.jpg', 2)]);
    expect(faces.map((f) => [f.id, f.file, f.sourceKey, f.box])).toEqual([
      [faceIdOf(bytes(1)), 'a.jpg', 'enrollment/a.jpg', [1, 2, 3, 4]],
      [faceIdOf(bytes(2)), 'b.jpg', 'enrollment/b.jpg', [1, 2, 3, 4]],
    ]);
  });

  it('refuses them all for the first photo that breaks the rule', () => {
    expect(codeOf(() => facesOf([photo('a.jpg', 1), photo('b.jpg', 2, { kind: 'faces', facesFound: 0 })]))).toBe(
      'ENROLL_NO_FACE',
    );
  });
});

describe('keptAndRepeated', () => {
  const faces = facesOf([photo('a.jpg', 1), photo('b.jpg', 2), photo('a-again.jpg', 1), photo('c.jpg', 3)]);
  it.each([
    // ids the gallery added, kept files, repeated files
    [[1, 2, 3], ['a.jpg', 'b.jpg', 'c.jpg'], ['a-again.jpg']],
    [[2], ['b.jpg'], ['a.jpg', 'a-again.jpg', 'c.jpg']],
    [[], [], ['a.jpg', 'b.jpg', 'a-again.jpg', 'c.jpg']],
  ])('added %j: keeps %j, drops %j', (added, kept, repeated) => {
    const result = keptAndRepeated(
      faces,
      added.map((n) => faceIdOf(bytes(n))),
    );
    expect(result.kept.map((f) => f.file)).toEqual(kept);
    expect(result.repeated.map((f) => f.file)).toEqual(repeated);
  });
});

describe('a bulk enrollment', () => {
  it('embeds each distinct photo once, and reports a photo under two labels', () => {
    const bulk = new BulkEnrollment();
    const taken = [
      { file: 'ana/1.jpg', label: 'Ana', bytes: bytes(1) },
      { file: 'ana/1-copy.jpg', label: 'Ana', bytes: bytes(1) },
      { file: 'ben/1.jpg', label: 'Ben', bytes: bytes(1) },
      { file: 'ben/2.jpg', label: 'Ben', bytes: bytes(2) },
    ].filter((p) => bulk.take(p));
    expect(taken.map((p) => p.file)).toEqual(['ana/1.jpg', 'ben/1.jpg', 'ben/2.jpg']);
    expect(bulk.duplicates).toBe(1);
    expect(bulk.relabelled).toEqual([{ file: 'ben/1.jpg', earlier: 'Ana' }]);
  });

  it('leaves out a photo that breaks the rule, with its sentence, and keeps the others', () => {
    const bulk = new BulkEnrollment();
    for (const p of [
      { ...photo('ana/1.jpg', 1), label: 'Ana' },
      { ...photo('ana/group.jpg', 2, { kind: 'faces', facesFound: 2, face: { embedding: vector } }), label: 'Ana' },
      { ...photo('ben/broken.jpg', 3, { kind: 'unreadable' }), label: 'Ben' },
      { ...photo('ben/1.jpg', 4), label: 'Ben' },
    ] as const) {
      bulk.add(p);
    }
    expect([...bulk.people].map(([name, faces]) => [name, faces.map((f) => f.file)])).toEqual([
      ['Ana', ['ana/1.jpg']],
      ['Ben', ['ben/1.jpg']],
    ]);
    expect(bulk.refused).toEqual([
      '"ana/group.jpg" shows 2 faces: enroll photos that show only this person, so the right face is enrolled.',
      'The image "ben/broken.jpg" is damaged or truncated and cannot be decoded.',
    ]);
  });
});
