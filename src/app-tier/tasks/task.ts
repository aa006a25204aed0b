/**
 * What a task is, to the request handler that runs every one of them (request-handler.ts), knowing none by name:
 * how its input arrives (its bytes, downloaded with the batch, or a file on disk, downloaded when its turn comes
 * and refused above a size), and, once run, the reply it answers with, what it stores in the out-bucket, and what
 * its log line says. One file per task (`recognize`, `enroll`, `video`); a new task is a new file, one line in
 * the worker's table (compose-worker.ts) and its name in the request message's schema (docs/recognition.md).
 */
import { labelKey, type FaceResult, type RequestMessage, type ResponseMessage } from '../../shared/wire/messages.js';
import type { Face } from '../recognition/engine.js';
import { decodesCleanly } from '../recognition/image.js';
import { AppError } from '../../shared/wire/errors.js';
import { matcherFor, type CollectionCache } from './collection-cache.js';
import type { FaceMatcher } from '../recognition/face-matcher.js';
import { DEFAULT_COLLECTION } from '../../shared/collections/manifest.js';

/** A request's input as its task takes it. */
export type TaskInput = {
  readonly request: RequestMessage;
  /** The upload's whole file name, and its stem: the out-bucket key of its answer. */
  readonly fileName: string;
  readonly stem: string;
} & (
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'file'; readonly path: string; readonly size: number }
);

/** The fields of a task's answer besides the envelope (request id, stem, worker, timings, status, task). */
export type TaskReply = Omit<
  Extract<ResponseMessage, { status: 'ok' }>,
  'v' | 'requestId' | 'stem' | 'workerId' | 'timings' | 'status' | 'task'
>;

export interface TaskOutcome {
  readonly reply: TaskReply;
  /** What is stored in the out-bucket; undefined: nothing. */
  readonly store?: { readonly key: string; readonly body: string; readonly contentType: string };
  /** What the worker's "done" line says of it. */
  readonly log: Readonly<Record<string, unknown>>;
}

export interface Task {
  /**
   * `bytes`: read into memory with its batch (an image). `file`: written to disk when its turn comes, and refused
   * with `tooLarge` above `maxBytes` before its bytes are read (a video).
   */
  readonly input: 'bytes' | { readonly maxBytes: number; readonly tooLarge: (limitBytes: number) => AppError };
  /** Throws an `AppError` for what the input itself gets wrong; writes each stage's milliseconds into `timings`. */
  run(input: TaskInput, timings: Record<string, number>): Promise<TaskOutcome>;
}

/** An image task (`recognize`, `enroll`) as a Task: its label, when it has one, stored under the upload's stem. */
export function imageTask(handler: TaskHandler): Task {
  return {
    input: 'bytes',
    async run(input, timings) {
      if (input.kind !== 'bytes') throw new Error('an image task was given a file');
      const result = await handler(input.request, input.bytes, timings);
      return {
        reply: result,
        ...(result.label === undefined
          ? {}
          : { store: { key: labelKey(input.stem), body: result.label, contentType: 'text/plain; charset=utf-8' } }),
        log: {
          label: result.label,
          similarity: result.similarity === undefined ? undefined : Number(result.similarity.toFixed(3)),
          faces: result.facesFound,
        },
      };
    },
  };
}

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
 * Does an image task on a downloaded image; throws an `AppError` for what the input itself gets wrong. It writes
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
