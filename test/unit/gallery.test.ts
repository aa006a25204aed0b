import { describe, expect, it } from 'vitest';
import { l2Normalize } from '../../src/app-tier/recognition/embedder.js';
import { Gallery, identify } from '../../src/app-tier/recognition/gallery.js';
import { AppError } from '../../src/shared/errors.js';
import {
  addFaces,
  emptyGallery,
  EMBEDDING_DIMENSIONS,
  faceIdOf,
  removeFace,
  removePerson,
  replacePeople,
  requireOneFace,
  storedGallerySchema,
  validatePersonName,
} from '../../src/shared/gallery.js';

const SHA = 'a'.repeat(64);
function unit(seed: number): Float32Array {
  const v = new Float32Array(EMBEDDING_DIMENSIONS);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(seed * 12.9898 + i * 78.233);
  return l2Normalize(v);
}
const face = (seed: number) => ({ id: seed.toString(16).padStart(16, '0'), embedding: unit(seed) });
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as AppError).code;
  }
  return undefined;
};

describe('the gallery document', () => {
  const start = emptyGallery(SHA);
  const withPaul = addFaces(start, 'Paul', [face(1), face(2)]).gallery;
  const both = addFaces(withPaul, 'Emily', [face(3)]).gallery;

  it('counts a version up with every change', () => {
    expect([start.version, withPaul.version, both.version]).toEqual([0, 1, 2]);
    expect(storedGallerySchema.parse(JSON.parse(JSON.stringify(both)))).toEqual(both);
  });

  it('does not enroll the same photo twice for one person', () => {
    const { gallery, added } = addFaces(both, 'Paul', [face(2), face(4)]);
    expect(added).toEqual([face(4).id]);
    expect(gallery.people.find((p) => p.name === 'Paul')!.faces).toHaveLength(3);
  });

  it('removes a face, and the person with their last face', () => {
    const one = removeFace(both, 'Paul', face(1).id);
    expect(one.gallery.people.map((p) => [p.name, p.faces.length])).toEqual([
      ['Paul', 1],
      ['Emily', 1],
    ]);
    const none = removeFace(both, 'Emily', face(3).id);
    expect(none.gallery.people.map((p) => p.name)).toEqual(['Paul']);
    expect(removePerson(both, 'Paul').removed.map((f) => f.id)).toEqual([face(1).id, face(2).id]);
  });

  it('says who or what was not found', () => {
    expect(codeOf(() => removePerson(both, 'Nobody'))).toBe('PERSON_NOT_FOUND');
    expect(codeOf(() => removeFace(both, 'Paul', 'ffffffffffffffff'))).toBe('FACE_NOT_FOUND');
  });

  it('replaces everyone at once with one new version', () => {
    const replaced = replacePeople(both, new Map([['Ana', [face(5)]]]));
    expect(replaced.version).toBe(both.version + 1);
    expect(replaced.people.map((p) => p.name)).toEqual(['Ana']);
  });

  it.each([
    ['Pаul', 'Paul'], // Cyrillic а
    ['paul', 'Paul'],
    ['Emi1y', 'Emily'], // a digit one for the l
    ['Ｐａｕｌ', 'Paul'], // full width
    ['Pa-ul', 'Paul'],
  ])('refuses %j, which reads as the enrolled %j', (name, existing) => {
    const err = (() => {
      try {
        addFaces(both, name, [face(9)]);
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.code).toBe('CONFUSABLE_NAME');
    expect(err?.message).toBe(
      `"${name}" reads as "${existing}", who is already enrolled: add faces under "${existing}", or choose a clearly different name.`,
    );
  });

  it('still takes clearly different names, and more faces under the same name', () => {
    expect(addFaces(both, 'Paula', [face(9)]).added).toEqual([face(9).id]);
    expect(addFaces(both, 'Pablo', [face(9)]).added).toEqual([face(9).id]);
    expect(addFaces(both, 'Paul', [face(9)]).added).toEqual([face(9).id]);
  });

  it('refuses a photo already enrolled for someone else, naming them', () => {
    const err = (() => {
      try {
        addFaces(both, 'Ana', [{ ...face(3), file: 'emily.jpg' }]);
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.code).toBe('PHOTO_ENROLLED_ELSEWHERE');
    expect(err?.status).toBe(409);
    expect(err?.message).toBe(
      `The photo "emily.jpg" is already enrolled for "Emily" (face ${face(3).id}); remove it there first.`,
    );
  });

  it('gives the same photo the same face id', () => {
    expect(faceIdOf(Buffer.from('photo'))).toBe(faceIdOf(Buffer.from('photo')));
    expect(faceIdOf(Buffer.from('photo'))).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('validatePersonName', () => {
  it.each(['Paul', 'Aaron_Peirsol', "Mary-Jane O'Neil", 'José', '王小明', 'R2D2', 'Dr. No', 'J.'])(
    'accepts %j',
    (name) => expect(validatePersonName(name)).toBe(name),
  );
  it('stores names in NFC: a decomposed "José" is the composed one', () => {
    expect(validatePersonName('Jose\u0301')).toBe('José');
  });
  it.each([
    ['', 'INVALID_NAME'],
    ['x'.repeat(65), 'INVALID_NAME'],
    ['../etc', 'INVALID_NAME'],
    ['a/b', 'INVALID_NAME'],
    [' Paul', 'INVALID_NAME'],
    ['Paul\n', 'INVALID_NAME'],
    ['<script>', 'INVALID_NAME'],
    ['Unknown', 'RESERVED_NAME'],
    ['unknown', 'RESERVED_NAME'],
    ['Unknоwn', 'RESERVED_NAME'], // Cyrillic о
    ['Ｕｎｋｎｏｗｎ', 'RESERVED_NAME'], // full width
    ['Unknown.', 'RESERVED_NAME'],
    ['Un known', 'RESERVED_NAME'],
    ['UNKN0WN', 'RESERVED_NAME'], // a zero for the O
  ])('refuses %j with %s', (name, code) => expect(codeOf(() => validatePersonName(name))).toBe(code));
});

describe('requireOneFace', () => {
  it.each([
    [0, 'ENROLL_NO_FACE'],
    [1, undefined],
    [2, 'ENROLL_MANY_FACES'],
  ])('%i faces: %s', (n, code) => expect(codeOf(() => requireOneFace('a.jpg', n))).toBe(code));
});

describe('Gallery search and identify', () => {
  const stored = addFaces(addFaces(emptyGallery(SHA), 'Paul', [face(1), face(2)]).gallery, 'Emily', [face(3)]).gallery;
  const gallery = Gallery.fromStored(storedGallerySchema.parse(JSON.parse(JSON.stringify(stored))));

  it('lists people, not faces, best first, each by their closest face', () => {
    const candidates = gallery.search(unit(2), 3);
    expect(candidates.map((c) => c.name)).toEqual(['Paul', 'Emily']);
    expect(candidates[0]!.similarity).toBeCloseTo(1, 5);
    expect(gallery.search(unit(2), 1)).toHaveLength(1);
    expect([gallery.size, gallery.people, gallery.version]).toEqual([3, 2, 2]);
  });

  it.each([
    // [best similarity, threshold, label]
    [0.9, 0.45, 'Paul'],
    [0.45, 0.45, 'Paul'],
    [0.44, 0.45, 'Unknown'],
    [-0.2, 0.45, 'Unknown'],
    [-0.2, undefined, 'Paul'],
  ])('similarity %f against threshold %s is %s', (similarity, threshold, label) => {
    const result = identify(
      [
        { name: 'Paul', similarity },
        { name: 'Emily', similarity: similarity - 0.1 },
      ],
      threshold,
    );
    expect(result.label).toBe(label);
    expect(result.similarity).toBe(similarity);
    expect(result.candidates[0]!.name).toBe('Paul');
  });

  it('is Unknown with an empty gallery', () => {
    expect(identify([], undefined).label).toBe('Unknown');
  });
});
