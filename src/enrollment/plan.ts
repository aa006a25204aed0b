/**
 * The pure steps of an enrollment: which photos become faces (the one-face rule, each photo once), and once
 * the gallery has taken them, which uploaded photos are kept (the first copy of each newly added face) and
 * which go (repeats: already enrolled, or sent twice).
 */
import { faceIdOf, type NewFace } from '../shared/gallery.js';
import { theOneFace, type Embedding } from './one-face-rule.js';

/** A photo to enroll, and what embedding it found. */
export interface EmbeddedPhoto {
  /** The photo's file name (or path), for messages. */
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly embedding: Embedding;
  /** Where the photo is kept in the in-bucket, when it is (the API keeps it; the command does not). */
  readonly sourceKey?: string;
}

/** A face to enroll, with what the answer reports of it. */
export interface PlannedFace extends NewFace {
  readonly file: string;
  readonly box?: readonly number[];
  readonly score?: number;
}

/** Faces from photos, in order; the first photo that breaks the one-face rule refuses them all. */
export function facesOf(photos: readonly EmbeddedPhoto[]): PlannedFace[] {
  return photos.map((photo) => {
    const face = theOneFace(photo.file, photo.embedding);
    return {
      id: faceIdOf(photo.bytes),
      embedding: face.embedding,
      file: photo.file,
      ...(photo.sourceKey === undefined ? {} : { sourceKey: photo.sourceKey }),
      ...(face.box === undefined ? {} : { box: face.box }),
      ...(face.score === undefined ? {} : { score: face.score }),
    };
  });
}

/**
 * After the gallery took `faces` and reported the ids it `added`: the faces added (the first upload of each),
 * and the repeats, whose uploaded copies are not kept.
 */
export function keptAndRepeated(
  faces: readonly PlannedFace[],
  added: readonly string[],
): { kept: PlannedFace[]; repeated: PlannedFace[] } {
  const addedIds = new Set(added);
  const kept = faces.filter((f, i) => addedIds.has(f.id) && faces.findIndex((g) => g.id === f.id) === i);
  const keptSet = new Set(kept);
  return { kept, repeated: faces.filter((f) => !keptSet.has(f)) };
}

/** A labelled photo of a bulk enrollment (`npm run enroll`), before it is embedded. */
export interface LabelledPhoto {
  readonly file: string;
  readonly label: string;
  readonly bytes: Uint8Array;
}

/**
 * Each distinct photo once: byte-identical copies under the same label are skipped (counted), copies under
 * another label are kept and reported (the gallery then refuses the photo for the second person).
 */
export function distinctPhotos<P extends LabelledPhoto>(
  photos: readonly P[],
): { distinct: P[]; duplicates: number; relabelled: { file: string; earlier: string }[] } {
  const owner = new Map<string, string>();
  const distinct: P[] = [];
  const relabelled: { file: string; earlier: string }[] = [];
  let duplicates = 0;
  for (const photo of photos) {
    const id = faceIdOf(photo.bytes);
    const earlier = owner.get(id);
    if (earlier === photo.label) {
      duplicates++;
      continue;
    }
    if (earlier !== undefined) relabelled.push({ file: photo.file, earlier });
    owner.set(id, photo.label);
    distinct.push(photo);
  }
  return { distinct, duplicates, relabelled };
}

/**
 * The people of a bulk enrollment: each photo that passes the one-face rule becomes a face of its label;
 * one that does not is refused on its own (with the rule's sentence), and the others go on.
 */
export function peopleOf(photos: readonly (EmbeddedPhoto & { readonly label: string })[]): {
  people: Map<string, PlannedFace[]>;
  refused: string[];
} {
  const people = new Map<string, PlannedFace[]>();
  const refused: string[] = [];
  for (const photo of photos) {
    let face: PlannedFace;
    try {
      [face] = facesOf([photo]) as [PlannedFace];
    } catch (err) {
      refused.push((err as Error).message);
      continue;
    }
    people.set(photo.label, [...(people.get(photo.label) ?? []), face]);
  }
  return { people, refused };
}
