/**
 * The rules of a gallery, whatever stores it: names, face ids, who a photo belongs to (the collection view);
 * and the match (FaceMatcher, exact while small) with the decision between a name and "Unknown".
 */
import { describe, expect, it } from 'vitest';
import { l2Normalize } from '../../src/app-tier/recognition/embedder.js';
import { FaceMatcher, identify, matchThresholdFor } from '../../src/app-tier/recognition/face-matcher.js';
import { AppError } from '../../src/shared/wire/errors.js';
import {
  EMBEDDING_DIMENSIONS,
  faceIdOf,
  nameKey,
  recordKey,
  validatePersonName,
} from '../../src/shared/collections/names-and-faces.js';
import { CollectionView } from '../../src/shared/collections/view.js';
import { safeFileName } from '../../src/shared/wire/messages.js';
import { quantize } from '../../src/shared/collections/vectors.js';

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

/** A view holding `people`, each face added as its own segment. */
function viewOf(people: Record<string, number[]>): CollectionView {
  const view = new CollectionView();
  for (const [name, seeds] of Object.entries(people)) {
    view.apply({
      kind: 'faces',
      faces: seeds.map((seed) => ({ id: face(seed).id, name, addedAt: '2026-12-03T00:00:00.000Z' })),
    });
  }
  return view;
}

describe('the collection view', () => {
  const both = viewOf({ Paul: [1, 2], Emily: [3] });

  it('does not enroll the same photo twice for one person', () => {
    expect(both.planAdd('Paul', [face(2), face(4), face(4)]).map((f) => f.id)).toEqual([face(4).id]);
  });

  it('removes a face by tombstone, and the person with their last face', () => {
    const view = viewOf({ Paul: [1, 2], Emily: [3] });
    view.apply({ kind: 'tombstones', faceIds: [face(1).id] });
    expect(view.page({ limit: 10 }).people).toEqual([
      { name: 'Emily', faces: 1 },
      { name: 'Paul', faces: 1 },
    ]);
    view.apply({ kind: 'tombstones', faceIds: [face(3).id] });
    expect(view.page({ limit: 10 }).people.map((p) => p.name)).toEqual(['Paul']);
    expect([view.faces, view.peopleCount]).toEqual([1, 1]);
  });

  it('says who or what was not found', () => {
    expect(codeOf(() => both.person('Nobody'))).toBe('PERSON_NOT_FOUND');
    expect(codeOf(() => both.face('Paul', 'ffffffffffffffff'))).toBe('FACE_NOT_FOUND');
  });

  it('lists people a page at a time, in code-point order', () => {
    const view = viewOf({ Cleo: [5], Ana: [6], Bo: [7], Émile: [8] });
    const first = view.page({ limit: 2 });
    expect(first).toEqual({
      people: [
        { name: 'Ana', faces: 1 },
        { name: 'Bo', faces: 1 },
      ],
      next: 'Bo',
    });
    expect(view.page({ after: first.next, limit: 2 }).people.map((p) => p.name)).toEqual(['Cleo', 'Émile']);
    expect(view.page({ after: 'Cleo', limit: 2 }).next).toBeUndefined();
  });

  it('checks a batch of people against each other as well as the collection', () => {
    expect(
      codeOf(() =>
        both.planAddMany(
          new Map([
            ['Ana', [face(9)]],
            ['ANA', [face(10)]],
          ]),
        ),
      ),
    ).toBe('CONFUSABLE_NAME');
    expect(
      codeOf(() =>
        both.planAddMany(
          new Map([
            ['Ana', [face(9)]],
            ['Bo', [face(9)]],
          ]),
        ),
      ),
    ).toBe('PHOTO_ENROLLED_ELSEWHERE');
    expect(
      both.planAddMany(
        new Map([
          ['Ana', [face(9)]],
          ['Paul', [face(1), face(11)]],
        ]),
      ),
    ).toEqual([
      { name: 'Ana', faces: [face(9)] },
      { name: 'Paul', faces: [face(11)] },
    ]);
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
        both.planAdd(name, [face(9)]);
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
    expect(both.planAdd('Paula', [face(9)])).toEqual([face(9)]);
    expect(both.planAdd('Pablo', [face(9)])).toEqual([face(9)]);
    expect(both.planAdd('Paul', [face(9)])).toEqual([face(9)]);
  });

  it('refuses a photo already enrolled for someone else, naming them', () => {
    const err = (() => {
      try {
        both.planAdd('Ana', [{ ...face(3), file: 'emily.jpg' }]);
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
    // The hardening probe's invisible characters: each made a name that reads as another.
    ['Unknown\u034f', 'INVALID_NAME'], // combining grapheme joiner
    ['Unknown\ufe00', 'INVALID_NAME'], // variation selector
    ['Paul\u3164', 'INVALID_NAME'], // Hangul filler
    ['\u3164', 'INVALID_NAME'],
    ['Pa\u200bul', 'INVALID_NAME'], // zero-width space
    ['Paul\u2060', 'INVALID_NAME'], // word joiner
    ['Pa\u00adul', 'INVALID_NAME'], // soft hyphen
    ['Paul\u2800', 'INVALID_NAME'], // blank Braille pattern
    ['Paul\u0085', 'INVALID_NAME'], // NEL, a C1 control
  ])('refuses %j with %s', (name, code) => expect(codeOf(() => validatePersonName(name))).toBe(code));

  it('keeps the joiners Persian and Indic names need, but reads a name with one as the name without', () => {
    expect(validatePersonName('می\u200cخواهم')).toBe('می\u200cخواهم');
    expect(nameKey('Pa\u200cul')).toBe(nameKey('Paul'));
  });

  it('reads a name with a combining mark as the name without: "Pau̇l" is "Paul" to a reader', () => {
    expect(nameKey('Pau\u0307l')).toBe(nameKey('Paul'));
    expect(nameKey('José')).toBe(nameKey('Jose'));
    expect(nameKey('Paul')).not.toBe(nameKey('Saul'));
  });
});

describe('recordKey', () => {
  it('keys a student record as names were keyed before marks were folded, so stored records are still found', () => {
    expect(recordKey('José')).toBe('jose\u0301');
    expect(recordKey('Zoë')).toBe(recordKey('Zoe\u0308'));
    expect(recordKey('Jennifer Lopez')).toBe('jenniferlopez');
    // The gallery's reading folds the mark; the record's key keeps it.
    expect(nameKey('José')).toBe('jose');
  });
});

describe('safeFileName', () => {
  it.each([
    ['test_00\u0085.jpg', 'test_00.jpg'],
    ['test\u034f_00.jpg', 'test_00.jpg'],
    ['a\u200bb.jpg', 'ab.jpg'],
    ['x\u0000y\u007f\u009f.jpg', 'xy.jpg'],
    ['👨\u200d👩\u200d👧.jpg', '👨\u200d👩\u200d👧.jpg'],
  ])('removes control and invisible characters from %j', (raw, clean) => expect(safeFileName(raw)).toBe(clean));
});

describe('FaceMatcher search and identify', () => {
  const matcherOf = async (people: [string, number[]][], indexMinFaces = 1000) => {
    const gallery = new FaceMatcher({ indexMinFaces });
    for (const [name, seeds] of people) {
      const rows = new Float32Array(seeds.length * EMBEDDING_DIMENSIONS);
      seeds.forEach((seed, i) => rows.set(unit(seed), i * EMBEDDING_DIMENSIONS));
      await gallery.add(
        seeds.map((seed) => ({ id: face(seed).id, name })),
        quantize(rows),
      );
    }
    return gallery;
  };

  it('lists people, not faces, best first, each by their closest face', async () => {
    const gallery = await matcherOf([
      ['Paul', [1, 2]],
      ['Emily', [3]],
    ]);
    const candidates = gallery.search(unit(2), 3);
    expect(candidates.map((c) => c.name)).toEqual(['Paul', 'Emily']);
    // int8 vectors: the similarity of a face to itself is 1 within the quantization's error.
    expect(candidates[0]!.similarity).toBeCloseTo(1, 3);
    expect(gallery.search(unit(2), 1)).toHaveLength(1);
    expect([gallery.size, gallery.people, gallery.indexed]).toEqual([3, 2, false]);
  });

  it('forgets removed faces, and a person with their last face', async () => {
    const gallery = await matcherOf([
      ['Paul', [1, 2]],
      ['Emily', [3]],
    ]);
    gallery.remove([face(3).id, 'not-a-face-id']);
    expect(gallery.search(unit(3), 3).map((c) => c.name)).toEqual(['Paul']);
    expect([gallery.size, gallery.people]).toEqual([2, 1]);
  });

  it('answers the same with its index as with the exact scan', async () => {
    // Vectors as unrelated as two people's: seeded Gaussian noise (the sine vectors above repeat across seeds).
    const noise = (seed: number) => {
      let state = seed * 2654435761;
      const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
      const v = new Float32Array(EMBEDDING_DIMENSIONS);
      for (let i = 0; i < v.length; i++)
        v[i] = Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next());
      return l2Normalize(v);
    };
    const matcherOfNoise = async (people: [string, number[]][], indexMinFaces = 1000) => {
      const gallery = new FaceMatcher({ indexMinFaces });
      for (const [name, seeds] of people) {
        const rows = new Float32Array(seeds.length * EMBEDDING_DIMENSIONS);
        seeds.forEach((seed, i) => rows.set(noise(seed), i * EMBEDDING_DIMENSIONS));
        await gallery.add(
          seeds.map((seed) => ({ id: face(seed).id, name })),
          quantize(rows),
        );
      }
      return gallery;
    };
    const people: [string, number[]][] = Array.from({ length: 300 }, (_, p) => [`P${p}`, [p * 2 + 1, p * 2 + 2]]);
    const exact = await matcherOfNoise(people);
    const indexed = await matcherOfNoise(people, 100);
    expect([exact.indexed, indexed.indexed]).toEqual([false, true]);
    for (const seed of [1, 2, 77, 300, 599]) {
      const e = exact.search(noise(seed), 3);
      const i = indexed.search(noise(seed), 3);
      expect(i[0]!.name).toBe(e[0]!.name);
      expect(i[0]!.similarity).toBeCloseTo(e[0]!.similarity, 2);
    }
    // A segment larger than one chunk of the index's adds: every face lands at its own row.
    const big: [string, number[]][] = Array.from({ length: 5000 }, (_, p) => [`Q${p}`, [10_000 + p]]);
    const grown = await matcherOfNoise([['Seed', [1]], ...people.slice(0, 20)], 10);
    const rows = new Float32Array(big.length * EMBEDDING_DIMENSIONS);
    big.forEach(([, [seed]], i) => rows.set(noise(seed!), i * EMBEDDING_DIMENSIONS));
    await grown.add(
      big.map(([name, [seed]]) => ({ id: face(seed!).id, name })),
      quantize(rows),
    );
    for (const p of [0, 4095, 4096, 4999]) expect(grown.search(noise(10_000 + p), 1)[0]!.name).toBe(`Q${p}`);
    indexed.remove([face(77).id, face(78).id]);
    expect(indexed.search(noise(77), 3).map((c) => c.name)).not.toContain('P38');
    expect(indexed.size).toBe(598);
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

  it.each([
    // [MATCH_THRESHOLD, people, the threshold]
    ['auto', 8, 0.45],
    ['auto', 1_000, 0.45],
    ['auto', 10_000, 0.47],
    ['auto', 100_000, 0.49],
    ['auto', 1_000_000, 0.51],
    ['auto', 1e12, 0.6],
    ['fixed 0.3', 1_000_000, 0.3],
    ['off', 1_000_000, undefined],
  ] as const)('a threshold of %s with %i people is %s', (setting, people, expected) => {
    const matching =
      setting === 'auto'
        ? { threshold: 0.45, grows: true }
        : setting === 'off'
          ? { threshold: undefined, grows: false }
          : { threshold: 0.3, grows: false };
    expect(matchThresholdFor(matching, people)).toBe(expected);
  });

  it('is Unknown with an empty gallery', () => {
    expect(identify([], undefined).label).toBe('Unknown');
  });
});
