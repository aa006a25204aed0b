/**
 * The pure steps of an enrollment: which photos become faces (the face rule, each photo once), and once
 * the gallery has taken them, which uploaded photos are kept (the first copy of each newly added face) and
 * which go (repeats: already enrolled, or sent twice).
 */
import { faceIdOf, type NewFace } from '../shared/collections/names-and-faces.js';
import { AppError } from '../shared/wire/errors.js';
import { NEAR_COPY_SIMILARITY, theFaceToEnroll, type CandidateFace, type Embedding } from './face-rule.js';

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
  readonly nearest?: CandidateFace['nearest'];
}

/** Faces from photos, in order; the first photo that breaks the face rule refuses them all. */
export function facesOf(photos: readonly EmbeddedPhoto[]): PlannedFace[] {
  return photos.map((photo) => {
    const face = theFaceToEnroll(photo.file, photo.embedding);
    return {
      id: faceIdOf(photo.bytes),
      embedding: face.embedding,
      file: photo.file,
      ...(photo.sourceKey === undefined ? {} : { sourceKey: photo.sourceKey }),
      ...(face.box === undefined ? {} : { box: face.box }),
      ...(face.score === undefined ? {} : { score: face.score }),
      ...(face.nearest === undefined ? {} : { nearest: face.nearest }),
    };
  });
}

/**
 * Refuses a face that is a copy of a photo enrolled for someone else (NEAR_COPY_SIMILARITY), as an identical
 * photo is refused: the face id is a hash of the file's bytes, so a copy re-encoded or with bytes appended would
 * otherwise enroll one face under two names. `stillEnrolled` says whether that person is still there (the
 * worker's view of the collection may be a few seconds old).
 */
export function refuseNearCopies(
  name: string,
  faces: readonly PlannedFace[],
  stillEnrolled: (person: string) => boolean,
): void {
  for (const face of faces) {
    const near = face.nearest;
    if (near && near.similarity >= NEAR_COPY_SIMILARITY && near.name !== name && stillEnrolled(near.name)) {
      throw new AppError('PHOTO_COPY_ENROLLED_ELSEWHERE', {
        file: face.file,
        person: near.name,
        similarity: Math.round(near.similarity * 1000) / 1000,
      });
    }
  }
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
 * A bulk enrollment (`npm run enroll`), photo by photo, so that no photo's bytes are held past its turn.
 * Byte-identical copies under the same label are skipped (counted); copies under another label are kept and
 * reported (the gallery then refuses the photo for the second person). A photo that breaks the face rule
 * is refused on its own, with the rule's sentence, and the others go on.
 */
export class BulkEnrollment {
  readonly people = new Map<string, PlannedFace[]>();
  readonly refused: string[] = [];
  readonly relabelled: { file: string; earlier: string }[] = [];
  duplicates = 0;
  private readonly owner = new Map<string, string>();

  /** Whether the photo is to be embedded: false for a copy already taken under the same label. */
  take(photo: LabelledPhoto): boolean {
    const id = faceIdOf(photo.bytes);
    const earlier = this.owner.get(id);
    if (earlier === photo.label) {
      this.duplicates++;
      return false;
    }
    if (earlier !== undefined) this.relabelled.push({ file: photo.file, earlier });
    this.owner.set(id, photo.label);
    return true;
  }

  /** Adds a taken photo, once embedded, to its label's faces, or refuses it. */
  add(photo: EmbeddedPhoto & { readonly label: string }): void {
    let face: PlannedFace;
    try {
      [face] = facesOf([photo]) as [PlannedFace];
    } catch (err) {
      this.refused.push((err as Error).message);
      return;
    }
    this.people.set(photo.label, [...(this.people.get(photo.label) ?? []), face]);
  }
}
