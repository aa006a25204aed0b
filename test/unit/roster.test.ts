/** A classroom video's roster: each person once, unknown faces apart, and the CSV the teacher reads. */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { rosterCsv, rosterOf, type FrameFaces } from '../../src/app-tier/tasks/video/roster.js';

const frame = (atSeconds: number, ...faces: [string, number][]): FrameFaces => ({
  atSeconds,
  faces: faces.map(([label, similarity]) => ({ label, similarity })),
});

describe('rosterOf', () => {
  it('counts each person once: first time seen, best similarity, frames', () => {
    const r = rosterOf([
      frame(0, ['Ana', 0.61], ['Unknown', 0.2]),
      frame(1, ['Ben', 0.55]),
      frame(2, ['Ana', 0.74], ['Ben', 0.5]),
      // Ana comes back after leaving: still one row.
      frame(5, ['Ana', 0.66], ['Unknown', 0.3], ['Unknown', 0.1]),
    ]);
    expect(r.students).toEqual([
      { name: 'Ana', firstSeenSeconds: 0, bestSimilarity: 0.74, frames: 3 },
      { name: 'Ben', firstSeenSeconds: 1, bestSimilarity: 0.55, frames: 2 },
    ]);
    // Without embeddings the strangers cannot be followed: at least the most in one frame.
    expect(r.unknown).toEqual({ detections: 3, mostInOneFrame: 2, people: 2, firstSeenSeconds: 0 });
    expect(r.framesSeen).toBe(4);
  });

  it.each([
    ['frames out of order', [frame(3, ['Ana', 0.5]), frame(1, ['Ana', 0.6])], { firstSeenSeconds: 1, frames: 2 }],
    ['one person twice in a frame', [frame(0, ['Ana', 0.5], ['Ana', 0.7])], { bestSimilarity: 0.7, frames: 1 }],
  ])('%s', (_what, frames, expected) => {
    expect(rosterOf(frames).students[0]).toMatchObject(expected);
  });

  it('orders people who appear together by name, and reports an empty video as empty', () => {
    expect(rosterOf([frame(2, ['Zoë', 0.6], ['Ana', 0.6])]).students.map((s) => s.name)).toEqual(['Ana', 'Zoë']);
    expect(rosterOf([])).toEqual({
      students: [],
      unknown: { detections: 0, mostInOneFrame: 0, people: 0, firstSeenSeconds: undefined },
      framesSeen: 0,
    });
  });
});

describe('strangers', () => {
  /** A unit vector along axis `i`, turned towards axis `j` by `t` (cosine with axis i: cos t). */
  const face = (i: number, j = i, t = 0) => {
    const v = new Float32Array(8);
    v[i] = Math.cos(t);
    v[j] = (v[j] ?? 0) + Math.sin(t);
    return v;
  };
  const unknown = (atSeconds: number, ...embeddings: Float32Array[]): FrameFaces => ({
    atSeconds,
    faces: embeddings.map((embedding) => ({ label: 'Unknown', similarity: 0.2, embedding })),
  });

  it('follows one stranger across frames, as one person', () => {
    // The same face, a little turned from frame to frame (cosine 0.9 with the first).
    const r = rosterOf([unknown(0, face(0)), unknown(2, face(0, 1, 0.45)), unknown(4, face(0, 2, 0.3))]);
    expect(r.unknown).toMatchObject({ detections: 3, mostInOneFrame: 1, people: 1 });
  });

  it('tells two strangers apart, even when they are in different frames', () => {
    const r = rosterOf([unknown(0, face(0)), unknown(2, face(1)), unknown(4, face(0, 3, 0.2))]);
    expect(r.unknown.people).toBe(2);
  });

  it('never takes two faces of one frame for one stranger, however alike', () => {
    const r = rosterOf([unknown(0, face(0), face(0, 1, 0.1)), unknown(2, face(0))]);
    expect(r.unknown).toMatchObject({ mostInOneFrame: 2, people: 2 });
  });
});

describe('rosterCsv', () => {
  const roster = rosterOf([frame(0.04, ['Smith, "Jo"', 0.71234], ['Unknown', 0.2]), frame(1.5, ['Ana', 0.6])]);
  const records = new Map([['Smith, "Jo"', { id: 'A1', major: 'Computer Science, minor: "Art"', year: '3' }]]);

  it('writes one row per student with their record, quoting commas and quotes, then the unknown faces', () => {
    const csv = rosterCsv(roster, records, ['id', 'major', 'year']);
    expect(csv.split('\r\n')[1]).toBe('"Smith, ""Jo""",A1,"Computer Science, minor: ""Art""",3,0.0,0.7123,1');
    expect(parse(csv, { columns: true })).toEqual([
      {
        name: 'Smith, "Jo"',
        id: 'A1',
        major: 'Computer Science, minor: "Art"',
        year: '3',
        first_seen_seconds: '0.0',
        best_similarity: '0.7123',
        faces_seen: '1',
      },
      // A student without a record: reported, with empty fields.
      {
        name: 'Ana',
        id: '',
        major: '',
        year: '',
        first_seen_seconds: '1.5',
        best_similarity: '0.6000',
        faces_seen: '1',
      },
      { name: 'Unknown', id: '', major: '', year: '', first_seen_seconds: '0.0', best_similarity: '', faces_seen: '1' },
    ]);
  });

  it('writes the Unknown row even when nobody unknown was seen', () => {
    const csv = rosterCsv(rosterOf([frame(0, ['Ana', 0.6])]), new Map(), []);
    expect(csv).toBe('name,first_seen_seconds,best_similarity,faces_seen\r\nAna,0.0,0.6000,1\r\nUnknown,,,0\r\n');
  });
});
