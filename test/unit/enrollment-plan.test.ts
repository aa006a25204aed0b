/** The pure steps of enrollment: the face rule, which photos are kept, and a bulk enrollment's people. */
import { describe, expect, it } from 'vitest';
import { FACE_RULE, theFaceToEnroll, type CandidateFace, type Embedding } from '../../src/enrollment/face-rule.js';
import { BulkEnrollment, facesOf, keptAndRepeated, type EmbeddedPhoto } from '../../src/enrollment/plan.js';
import { AppError } from '../../src/shared/wire/errors.js';
import { faceIdOf } from '../../src/shared/collections/names-and-faces.js';

const vector = new Float32Array(512).fill(0.5);
/** A face `width` px wide at `x`, as sharp as the rule wants. */
const face = (width: number, x = 0, sharpness = 200): CandidateFace => ({
  embedding: vector,
  box: [x, 2, x + width, 2 + width],
  score: 0.9,
  sharpness,
});
const one: Embedding = { kind: 'faces', facesFound: 1, faces: [face(100, 1)] };
const faces = (facesFound: number, ...found: CandidateFace[]): Embedding => ({
  kind: 'faces',
  facesFound,
  faces: found,
});
const messageOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
};
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

describe('the face rule', () => {
  it.each([
    ['no face', faces(0), 'ENROLL_NO_FACE'],
    ['one face', one, undefined],
    ['a bystander much smaller', faces(2, face(60, 150), face(100)), undefined],
    ['a bystander just small enough', faces(2, face(100), face(100 / FACE_RULE.dominance)), undefined],
    ['two faces of about one size', faces(2, face(100), face(90, 150)), 'ENROLL_MANY_FACES'],
    ['a face too small', faces(1, face(FACE_RULE.minWidth - 1)), 'ENROLL_FACE_TOO_SMALL'],
    ['a face just large enough', faces(1, face(FACE_RULE.minWidth)), undefined],
    ['a blurred face', faces(1, face(100, 0, FACE_RULE.minSharpness - 1)), 'ENROLL_FACE_BLURRED'],
    ['a damaged photo', { kind: 'unreadable' } as Embedding, 'INVALID_IMAGE'],
  ])('%s → %s', (_what, embedding, code) => {
    expect(codeOf(() => theFaceToEnroll('a.jpg', embedding))).toBe(code);
  });

  it('enrolls the largest face, wherever it is listed', () => {
    const largest = face(120, 100);
    expect(theFaceToEnroll('a.jpg', faces(3, face(50), largest))).toBe(largest);
  });

  it('says in each refusal what it found and what it needs', () => {
    expect(messageOf(() => theFaceToEnroll('group.jpg', faces(4, face(100), face(90))))).toBe(
      '"group.jpg" shows 4 faces and none is clearly the person\'s: the largest is 100 px wide, the next 90 px. ' +
        `Enroll a photo in which this person's face is at least ${FACE_RULE.dominance} times as wide as any other, ` +
        'or crop it.',
    );
    expect(messageOf(() => theFaceToEnroll('far.jpg', faces(1, face(15.4))))).toBe(
      `The face in "far.jpg" is 15 px wide, too small to recognise: enroll a photo in which it is at least ` +
        `${FACE_RULE.minWidth} px wide.`,
    );
    expect(messageOf(() => theFaceToEnroll('soft.jpg', faces(1, face(100, 0, 3.3))))).toBe(
      `The face in "soft.jpg" is too blurred to recognise (sharpness 3; ${FACE_RULE.minSharpness} is the least ` +
        'enrolled): enroll a sharper photo.',
    );
  });
});

describe('facesOf', () => {
  it('makes one face per photo, keyed by its bytes, with where it is kept', () => {
    const faces = facesOf([photo('a.jpg', 1), photo('b.jpg', 2)]);
    expect(faces.map((f) => [f.id, f.file, f.sourceKey, f.box])).toEqual([
      [faceIdOf(bytes(1)), 'a.jpg', 'enrollment/a.jpg', [1, 2, 101, 102]],
      [faceIdOf(bytes(2)), 'b.jpg', 'enrollment/b.jpg', [1, 2, 101, 102]],
    ]);
  });

  it('refuses them all for the first photo that breaks the rule', () => {
    expect(codeOf(() => facesOf([photo('a.jpg', 1), photo('b.jpg', 2, faces(0))]))).toBe('ENROLL_NO_FACE');
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
      { ...photo('ana/group.jpg', 2, faces(2, face(100), face(95, 120))), label: 'Ana' },
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
      expect.stringMatching(/^"ana\/group.jpg" shows 2 faces and none is clearly the person's/),
      'The image "ben/broken.jpg" is damaged or truncated and cannot be decoded.',
    ]);
  });
});
