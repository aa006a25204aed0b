/**
 * What a task handler is: given a request's image, the result to answer with. One file per task (`recognize`,
 * `enroll`); a new task is a new file and an entry in the request handler's table.
 */
import type { FaceResult, RequestMessage } from '../../shared/messages.js';
import type { Face } from '../recognition/engine.js';
import { decodesCleanly } from '../recognition/image.js';
import { AppError } from '../../shared/errors.js';
import { matcherFor, type CollectionCache } from '../collection-cache.js';
import type { FaceMatcher } from '../recognition/face-matcher.js';
import { DEFAULT_COLLECTION } from '../../shared/collections/manifest.js';

export interface TaskResult {
  readonly image: { readonly width: number; readonly height: number };
  readonly facesFound: number;
  readonly faces: FaceResult[];
  /** The answer stored in the out-bucket under the upload's stem; undefined: nothing is stored. */
  readonly label: string | undefined;
  readonly similarity: number | undefined;
  readonly galleryVersion?: number;
  readonly collection?: string;
}

/**
 * Does one task on a downloaded image; throws an `AppError` for what the input itself gets wrong. It writes
 * each stage's milliseconds into `timings` as the stage ends (`detectMs`, `matchMs`, …), so that a refusal
 * carries the stages that ran before it.
 */
export type TaskHandler = (
  request: RequestMessage,
  bytes: Uint8Array,
  timings: Record<string, number>,
) => Promise<TaskResult>;

/** Asked when no face was found: a picture that decodes only with codec warnings is damaged, not faceless. */
export async function refuseIfDamaged(bytes: Uint8Array): Promise<void> {
  if (!(await decodesCleanly(bytes))) throw new AppError('INVALID_IMAGE');
}

/** A face's box (rounded to 0.1 px) and detection score, as responses carry them. */
export function describeFace(face: Face) {
  const r = (v: number) => Math.round(v * 10) / 10;
  const { x1, y1, x2, y2 } = face.box;
  return {
    box: [r(x1), r(y1), r(x2), r(y2)] as [number, number, number, number],
    score: Math.round(face.score * 1000) / 1000,
  };
}

/**
 * The collection to match against, loaded at its first request: GALLERY_EMPTY when nobody is enrolled in the
 * default collection, COLLECTION_NOT_FOUND for another that does not exist.
 */
export async function currentGallery(
  galleries: Pick<CollectionCache, 'get'>,
  collection: string,
): Promise<FaceMatcher> {
  return matcherFor(galleries, collection, DEFAULT_COLLECTION);
}

/** Four decimals: finer than any threshold anyone sets, and answers stay readable. */
export function roundSimilarity(similarity: number): number {
  return Math.round(similarity * 10_000) / 10_000;
}
