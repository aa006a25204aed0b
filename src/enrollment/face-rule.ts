/**
 * The one-face rule, for the enrollment API and `npm run enroll` alike: an enrollment photo must show exactly
 * one face, or we could enroll a bystander under the person's name. A photo that cannot be decoded is refused
 * as damaged.
 */
import { AppError } from '../shared/errors.js';

/** What embedding a photo found, wherever it ran (a worker, or the command's own engine). */
export type Embedding =
  | {
      readonly kind: 'faces';
      /** Faces detected in the photo. */
      readonly facesFound: number;
      /** The most prominent face, when there is one. */
      readonly face?: { readonly embedding: Float32Array; readonly box?: readonly number[]; readonly score?: number };
    }
  | { readonly kind: 'unreadable' };

/** Throws ENROLL_NO_FACE, ENROLL_MANY_FACES or INVALID_IMAGE unless `facesFound` is exactly one. */
export function requireOneFace(file: string, facesFound: number): void {
  if (facesFound === 0) throw new AppError('ENROLL_NO_FACE', { file });
  if (facesFound > 1) throw new AppError('ENROLL_MANY_FACES', { file, faces: facesFound });
}

/** The one face of a photo, or the rule's refusal. */
export function theOneFace(
  file: string,
  embedding: Embedding,
): NonNullable<Extract<Embedding, { kind: 'faces' }>['face']> {
  if (embedding.kind === 'unreadable') throw new AppError('INVALID_IMAGE', { file });
  requireOneFace(file, embedding.facesFound);
  if (!embedding.face) throw new Error(`${file}: one face was found but none was returned`);
  return embedding.face;
}
