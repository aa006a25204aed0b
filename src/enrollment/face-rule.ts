/**
 * Which face of an enrollment photo is enrolled, for the enrollment API, `npm run enroll` and the console alike.
 * As Rekognition's IndexFaces and CompreFace do, the largest face is the person's when it clearly dominates: a
 * bystander in the background does not refuse the photo, but two faces of about one size do (either could be the
 * person). A face too small or too blurred to recognise is refused, or it would enroll a person whose every later
 * photo is a stranger's. The three limits were chosen by `npm run bench:enrollment` on LFW (docs/enrollment.md).
 * A photo that cannot be decoded is refused as damaged.
 */
import { AppError } from '../shared/wire/errors.js';

export const FACE_RULE = {
  /**
   * The largest face must be at least this many times as wide as the next largest. On LFW's 484 photos with
   * more than one face, 1.4 enrolls 329, none of them a bystander; 1.3 enrolls 368, 2 of them a bystander.
   */
  dominance: 1.4,
  /**
   * The narrowest face enrolled, in the photo's pixels, where same-person matches collapse (docs/enrollment.md).
   * The course's 64×64 workload images show faces 21 to 27 px wide, and must enroll.
   */
  minWidth: 20,
  /** The least sharp aligned face enrolled (the variance of its Laplacian: sharpness.ts), where matches collapse. */
  minSharpness: 5,
} as const;

/**
 * How a photo is analysed for the rule, by a worker or by `npm run enroll`: its two largest faces embedded (two
 * tell whether one dominates), with their sharpness.
 */
export const ENROLLMENT_ANALYSIS = { maxFaces: 2, rule: 'largest', sharpness: true } as const;

/** A face the rule looks at: its box in the photo's pixels [x1, y1, x2, y2], sharpness, and embedding. */
export interface CandidateFace {
  readonly embedding: Float32Array;
  readonly box: readonly number[];
  readonly score?: number;
  readonly sharpness?: number;
  /** The enrolled person this face is most like, as the worker that embedded it found (the API's path). */
  readonly nearest?: { readonly name: string; readonly similarity: number };
}

/**
 * At or above this similarity to an enrolled face, a face is a copy of that photo (re-encoded, resized, bytes
 * appended), not another photo of the person. Measured on the 139 LFW photos of test/fixtures: their copies
 * (JPEG quality 50; 180 px wide at quality 70; 16 zero bytes appended) score 0.939 or more against the original,
 * and two different photos of one person at most 0.912 (164 pairs).
 */
export const NEAR_COPY_SIMILARITY = 0.93;

/** What embedding a photo found, wherever it ran (a worker, or the command's own engine). */
export type Embedding =
  | {
      readonly kind: 'faces';
      /** Faces detected in the photo. */
      readonly facesFound: number;
      /** The largest face and the next largest, when there are. */
      readonly faces: readonly CandidateFace[];
    }
  | { readonly kind: 'unreadable' };

/** An engine's analysis (ENROLLMENT_ANALYSIS) as the rule takes it. */
export function embeddingOf(analysis: {
  readonly facesFound: number;
  readonly faces: readonly {
    readonly embedding: Float32Array;
    readonly box: { readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number };
    readonly sharpness?: number;
  }[];
}): Embedding {
  return {
    kind: 'faces',
    facesFound: analysis.facesFound,
    faces: analysis.faces.map((f) => ({
      embedding: f.embedding,
      box: [f.box.x1, f.box.y1, f.box.x2, f.box.y2],
      ...(f.sharpness === undefined ? {} : { sharpness: f.sharpness }),
    })),
  };
}

const width = (face: CandidateFace) => face.box[2]! - face.box[0]!;

/** The face to enroll, or the rule's refusal: ENROLL_NO_FACE, ENROLL_MANY_FACES, ENROLL_FACE_TOO_SMALL or _BLURRED. */
export function theFaceToEnroll(file: string, embedding: Embedding): CandidateFace {
  if (embedding.kind === 'unreadable') throw new AppError('INVALID_IMAGE', { file });
  const [largest, next] = [...embedding.faces].sort((a, b) => width(b) - width(a));
  if (embedding.facesFound === 0 || !largest) throw new AppError('ENROLL_NO_FACE', { file });
  if (next && width(largest) < FACE_RULE.dominance * width(next)) {
    throw new AppError('ENROLL_MANY_FACES', {
      file,
      faces: embedding.facesFound,
      largest: Math.round(width(largest)),
      next: Math.round(width(next)),
      dominance: FACE_RULE.dominance,
    });
  }
  if (width(largest) < FACE_RULE.minWidth) {
    throw new AppError('ENROLL_FACE_TOO_SMALL', { file, width: Math.round(width(largest)), min: FACE_RULE.minWidth });
  }
  if (largest.sharpness !== undefined && largest.sharpness < FACE_RULE.minSharpness) {
    throw new AppError('ENROLL_FACE_BLURRED', {
      file,
      sharpness: Math.round(largest.sharpness),
      min: FACE_RULE.minSharpness,
    });
  }
  return largest;
}
