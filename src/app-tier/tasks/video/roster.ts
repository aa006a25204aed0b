/**
 * Who was in the room: the faces recognised in a classroom video's frames turned into one roster, each person
 * counted once (the first time seen, the best similarity, in how many frames), and the CSV the teacher reads,
 * with each student's record beside them. Unknown faces are never forced onto a student: they are counted on
 * a last row of their own, and the strangers among them by following each one's face from frame to frame (the
 * same unknown face seen again is the same stranger). Pure; the worker's video task feeds it.
 */
import { stringify } from 'csv-stringify/sync';
import { UNKNOWN_LABEL } from '../../../shared/collections/names-and-faces.js';
import type { StudentRecord } from '../../../shared/video/student-records.js';

/** The faces recognised in one frame. */
export interface FrameFaces {
  /** Where the frame is in the video, in seconds. */
  readonly atSeconds: number;
  readonly faces: readonly {
    readonly label: string;
    readonly similarity: number;
    /** An unknown face's embedding, to tell whether an earlier frame's stranger is seen again. */
    readonly embedding?: Float32Array;
  }[];
}

/** Two unknown faces at least this alike (cosine) are one stranger: the service's match threshold. */
export const SAME_STRANGER = 0.45;

export interface Attendee {
  readonly name: string;
  readonly firstSeenSeconds: number;
  readonly bestSimilarity: number;
  /** Frames in which they were recognised. */
  readonly frames: number;
}

export interface Roster {
  /** Each person once, in the order they first appeared (then by name). */
  readonly students: readonly Attendee[];
  readonly unknown: {
    /** Unknown faces over all frames: one person seen in ten frames counts ten. */
    readonly detections: number;
    /** The most unknown faces in one frame: at least this many unknown people were there. */
    readonly mostInOneFrame: number;
    /** Strangers: unknown faces followed from frame to frame, each counted once. */
    readonly people: number;
    /** When the first unknown face appeared; undefined when none did. */
    readonly firstSeenSeconds: number | undefined;
  };
  readonly framesSeen: number;
}

export function rosterOf(frames: readonly FrameFaces[], sameStranger = SAME_STRANGER): Roster {
  const byName = new Map<string, { firstSeenSeconds: number; bestSimilarity: number; frames: number }>();
  /** Each stranger's faces so far. */
  const strangers: Float32Array[][] = [];
  let untracked = 0;
  let detections = 0;
  let mostInOneFrame = 0;
  let unknownFirst: number | undefined;
  for (const frame of [...frames].sort((a, b) => a.atSeconds - b.atSeconds)) {
    const unknownHere = frame.faces.filter((f) => f.label === UNKNOWN_LABEL).length;
    detections += unknownHere;
    mostInOneFrame = Math.max(mostInOneFrame, unknownHere);
    if (unknownHere > 0) unknownFirst ??= frame.atSeconds;
    // Each unknown face joins the stranger it is most like, if alike enough and not already seen in this frame
    // (two faces of one frame are two people); otherwise it is a new stranger.
    const taken = new Set<number>();
    for (const f of frame.faces) {
      if (f.label !== UNKNOWN_LABEL) continue;
      if (!f.embedding) {
        untracked++;
        continue;
      }
      let best = -1;
      let bestSimilarity = sameStranger;
      strangers.forEach((faces, i) => {
        if (taken.has(i)) return;
        const similarity = Math.max(...faces.map((e) => dot(e, f.embedding!)));
        if (similarity >= bestSimilarity) [best, bestSimilarity] = [i, similarity];
      });
      if (best < 0) best = strangers.push([]) - 1;
      strangers[best]!.push(f.embedding);
      taken.add(best);
    }
    // A person twice in one frame (a look-alike) counts one frame, with the better similarity.
    const namedHere = new Map<string, number>();
    for (const f of frame.faces) {
      if (f.label === UNKNOWN_LABEL) continue;
      namedHere.set(f.label, Math.max(namedHere.get(f.label) ?? -Infinity, f.similarity));
    }
    for (const [name, similarity] of namedHere) {
      const seen = byName.get(name);
      if (!seen) byName.set(name, { firstSeenSeconds: frame.atSeconds, bestSimilarity: similarity, frames: 1 });
      else {
        seen.bestSimilarity = Math.max(seen.bestSimilarity, similarity);
        seen.frames++;
      }
    }
  }
  const students = [...byName]
    .map(([name, s]) => ({ name, ...s }))
    .sort((a, b) => a.firstSeenSeconds - b.firstSeenSeconds || a.name.localeCompare(b.name));
  return {
    students,
    // Unknown faces without an embedding cannot be followed: at least the most of them in one frame.
    unknown: {
      detections,
      mostInOneFrame,
      people: untracked > 0 ? Math.max(strangers.length, mostInOneFrame) : strangers.length,
      firstSeenSeconds: unknownFirst,
    },
    framesSeen: frames.length,
  };
}

/**
 * The roster as CSV (RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled):
 * `name`, the record's fields (`recordFields`, in that order; empty for a student without a record),
 * `first_seen_seconds`, `best_similarity`, `faces_seen` (a student: the frames they were recognised in); then a
 * last row `Unknown` with the unknown faces' first appearance and how many there were.
 */
export function rosterCsv(
  roster: Roster,
  records: ReadonlyMap<string, StudentRecord>,
  recordFields: readonly string[],
): string {
  const header = ['name', ...recordFields, 'first_seen_seconds', 'best_similarity', 'faces_seen'];
  const rows = roster.students.map((s) => [
    s.name,
    ...recordFields.map((f) => records.get(s.name)?.[f] ?? ''),
    seconds(s.firstSeenSeconds),
    s.bestSimilarity.toFixed(4),
    String(s.frames),
  ]);
  const u = roster.unknown;
  rows.push([
    UNKNOWN_LABEL,
    ...recordFields.map(() => ''),
    u.firstSeenSeconds === undefined ? '' : seconds(u.firstSeenSeconds),
    '',
    String(u.detections),
  ]);
  return stringify([header, ...rows], { record_delimiter: 'windows' });
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function seconds(s: number): string {
  return (Math.round(s * 10) / 10).toFixed(1);
}
